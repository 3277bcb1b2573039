"""Database plumbing shared by every context package: the typed declarative base, mixins, UTC timestamps,
tenant scoping and encrypted personal-data fields.

Use cases receive a ``Session`` and never commit; the skin (request teardown, CLI command, job wrapper)
commits once, so everything a step writes lands together or not at all.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CursorResult,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    create_engine,
    event,
    select,
    text,
    update,
)
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def affected_rows(result: object) -> int:
    """Rows an UPDATE or DELETE touched. ``Session.execute`` is typed as returning a plain ``Result``; for
    these statements it is a ``CursorResult``, the one that knows ``rowcount``."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return int(result.rowcount or 0)


def ping(session: Session) -> None:
    """One round trip to the database (the health check): raises if it cannot be reached."""
    session.execute(text("SELECT 1"))


def new_id() -> str:
    """Random 32-hex identifiers: known before INSERT (row-bound encryption needs it) and not enumerable."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC — the same on SQLite (which drops zones) and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class HexDigest(TypeDecorator[str]):
    """A SHA-256 digest stored as its 32 bytes and read as the 64 hex digits the code computes and compares
    (issue 18: half the bytes of the text form). The hash chains hash the hex text (app/security/audit.py), so
    how the column stores it changes no digest."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        return bytes.fromhex(value) if value is not None else None

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:
        return bytes(value).hex() if value is not None else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)

    def ensure_id(self) -> str:
        if self.id is None:
            self.id = new_id()
        return self.id


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TenantScoped:
    """Rows of one district office. Queries through a session whose ``info['tenant_scope']`` is a set of
    tenant codes only ever see those tenants' rows (city-level sessions have no scope)."""

    tenant_id: Mapped[str] = mapped_column(String(12), index=True)


@event.listens_for(Session, "do_orm_execute")
def _scope_to_tenants(state: ORMExecuteState) -> None:
    scope = state.session.info.get("tenant_scope")
    if scope is None or not state.is_select or state.execution_options.get("all_tenants"):
        return
    allowed = tuple(sorted(scope))
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id.in_(allowed), include_aliases=True)
    )


def set_tenant_scope(session: Session, tenants: set[str] | frozenset[str] | None) -> None:
    """None = unscoped (city level, applicants, jobs); otherwise the tenant codes this session may see."""
    session.info["tenant_scope"] = None if tenants is None else frozenset(tenants)


def init_app(app: Any) -> None:
    """The database of ``DATABASE_URL`` (``app.extensions["db"]``), with the read replica of
    ``DATABASE_REPLICA_URL`` when one is configured."""
    settings = app.config["SETTINGS"]
    app.extensions["db"] = Database(settings.database_url, replica_url=settings.database_replica_url or None)


def compact_json(value: Any) -> str:
    """How JSON columns are written: no spaces, and Chinese as UTF-8 rather than ``\\uXXXX`` escapes (3 bytes a
    character instead of 6; JSON columns are stored as text on both databases). Issue 18: rule results, fee
    items and audit payloads are mostly Chinese. Reading is unchanged (rows written escaped still parse); the
    input guard (app/input_guard.py) keeps lone surrogates, which UTF-8 cannot encode, out of the data."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# A pooled connection idle for longer than this is pinged before use (see _ping_idle_connections).
PING_IDLE_AFTER_S = 30.0


# After the replica could not be reached, reads go to the primary for this long before it is tried again.
REPLICA_RETRY_S = 30.0


class Database:
    """One engine + session factory per app (tests create many apps), and optionally a read replica's
    (docs/scaling.md): ``replica_session`` serves the reads that may lag a moment behind the primary."""

    def __init__(self, url: str, *, ping_idle_after_s: float = PING_IDLE_AFTER_S, replica_url: str | None = None,
                 **engine_kwargs: Any) -> None:
        if url.startswith("sqlite"):
            engine_kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine_kwargs.setdefault("json_serializer", compact_json)
        self.engine: Engine = create_engine(url, **engine_kwargs)
        if url.startswith("sqlite"):
            _configure_sqlite(self.engine)
        elif not engine_kwargs.get("pool_pre_ping"):
            _ping_idle_connections(self.engine, ping_idle_after_s)
        _track_writes(self.engine)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.replica_engine: Engine | None = None
        self._replica_down_until = 0.0
        if replica_url:
            # pre-ping: a replica restarted or failed over is noticed at checkout, and the read falls back
            self.replica_engine = create_engine(replica_url, pool_pre_ping=True, json_serializer=compact_json,
                                                **({"connect_args": {"check_same_thread": False, "timeout": 30}}
                                                   if replica_url.startswith("sqlite") else {}))
            self._replica_factory = sessionmaker(self.replica_engine, expire_on_commit=False)

    def replica_session(self) -> Session | None:
        """A session on the read replica (its transaction begun, so the reads of one page see one snapshot), or
        None when none is configured or it cannot be reached — then the caller reads the primary; the failure
        is logged and the replica is tried again after ``REPLICA_RETRY_S``. Never write through it: production
        gives the replica URL a read-only role, and a streaming replica refuses writes anyway."""
        if self.replica_engine is None or time.monotonic() < self._replica_down_until:
            return None
        session = self._replica_factory()
        try:
            session.connection()
        except Exception:  # any failure to reach it: the primary serves, the request never fails for it
            session.close()
            self._replica_down_until = time.monotonic() + REPLICA_RETRY_S
            log.warning("read replica unreachable: reads go to the primary for %.0f s", REPLICA_RETRY_S,
                        exc_info=True)
            return None
        return session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """Reads only (statistics, inbox counts, register queries outside a request, benches): the replica when
        it answers, else the primary; rolled back at the end, whatever happened."""
        session = self.replica_session() or self.session_factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Commit once on success, roll back on any error: the boundary for CLI commands, jobs and benches."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def _ping_idle_connections(engine: Engine, idle_after_s: float) -> None:
    """Ping a pooled connection before use only when it sat idle for ``idle_after_s``: one dropped meanwhile
    (a firewall's idle timeout, a server restart) is replaced before a request meets it, as ``pool_pre_ping``
    would, without its round trip on every checkout — a request checks out a connection per transaction
    (run_unit's passes, department-call logs), and pinging each was a statement in three per request
    before its own work (issue 18). A connection in steady use is used as it is; should it have died within
    the last seconds, the request fails like any request in flight when the server goes away."""

    @event.listens_for(engine, "checkin")
    def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_after_s:
            return  # new, or used moments ago
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as exc:  # noqa: BLE001 — any failure: the pool connects afresh and checks out again
            raise DisconnectionError(f"idle pooled connection is gone: {exc}") from exc


# ---- Does a transaction hold anything? (no department call may wait inside one that does) ------------------

_WRITES = "transaction_writes"
_NEUTRAL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "PRAGMA", "SET", "SHOW")
_LOCKING_READ = (" FOR UPDATE", " FOR SHARE", " FOR NO KEY UPDATE", " FOR KEY SHARE", "PG_ADVISORY")
_pending_work_keys: set[str] = set()


def _is_write(statement: str) -> bool:
    """INSERT/UPDATE/DELETE/DDL, and reads that lock (``FOR UPDATE``, advisory locks), count as writes."""
    head = statement.lstrip().upper()
    if head.startswith(_NEUTRAL):
        return False
    if head.startswith("SELECT"):
        return any(marker in head for marker in _LOCKING_READ)
    return True


def _track_writes(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _fresh(conn: Any) -> None:
        conn.info[_WRITES] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _note(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not conn.info.get(_WRITES) and _is_write(statement):
            conn.info[_WRITES] = True


_ROW_LOCKS = "transaction_row_locks"


@event.listens_for(Session, "do_orm_execute")
def _note_row_locks(state: ORMExecuteState) -> None:
    """``with_for_update()`` counts as a lock on every database, also on SQLite, which renders no FOR UPDATE
    (its BEGIN IMMEDIATE is the lock there)."""
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is not None:
        state.session.info[_ROW_LOCKS] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_row_locks(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ROW_LOCKS, None)


_TX_CACHES = "transaction_caches"


def transaction_cache(session: Session, name: str) -> dict[Any, Any]:
    """A dict kept for the session's current transaction only, for what a step would otherwise read again and
    again (issue 18): dropped when the transaction ends and when any part of it (a savepoint) rolls back."""
    caches: dict[str, dict[Any, Any]] = session.info.setdefault(_TX_CACHES, {})
    return caches.setdefault(name, {})


_engine_caches: weakref.WeakKeyDictionary[Engine, dict[str, Any]] = weakref.WeakKeyDictionary()


def engine_cache(session: Session) -> dict[str, Any]:
    """A dict this process keeps per database (engine) across transactions, for what a step would otherwise read
    every time (issue 18: the audit chain's head, the working-day calendar). Each user decides how it stays
    right when another process changes the data. Emptied when the engine is disposed: its pool may then reach
    another database (the tests copy a fresh one under the app)."""
    return _engine_caches.setdefault(session.get_bind().engine, {})


@event.listens_for(Engine, "engine_disposed")
def forget_engine_cache(engine: Engine) -> None:
    """Empty ``engine_cache`` for ``engine``: on dispose, and when the data under it was replaced otherwise (the
    tests reset a PostgreSQL database's rows under the shared app)."""
    _engine_caches.pop(engine, None)


# Pauses before the after-response work tries again what failed (a lock, a storage hiccup); then the job's next
# run is the fallback.
AFTER_RESPONSE_RETRY_PAUSES_S = (0.5, 2.0)


def work_after_response(session: Session, key: str, run: Callable[[Any, list[str]], int],
                        what: str) -> Callable[[], None] | None:
    """After ``session`` committed: the ids its transaction listed under ``session.info[key]``, as work for the
    skin to run once the response has gone (``app.web``: the 制证 of a certificate, the 申请书), or None. Best
    effort: what ``run(app, ids)`` did not settle (it returns how many ids it made or found no longer due) is
    tried again after a pause, twice, then left to the job that makes the same things; failures are logged.
    With ``DOCUMENTS_AFTER_RESPONSE`` off, always None: the job makes them (app/serving.py)."""
    ids: list[str] = list(dict.fromkeys(session.info.pop(key, None) or []))  # a re-run pass may list one twice
    if not ids:
        return None
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config.get("SETTINGS")
    if settings is not None and not settings.documents_after_response:
        return None  # DOCUMENTS_AFTER_RESPONSE=0 (gunicorn): the scheduler's job makes them, in its process

    def work() -> None:
        for pause in (*AFTER_RESPONSE_RETRY_PAUSES_S, None):
            try:
                if run(app, ids) >= len(ids):
                    return
            except Exception:
                logging.getLogger("app").exception("%s %s: making them after the request failed", what, ids)
            if pause is None:
                break
            time.sleep(pause)  # a transient failure (a lock, a storage hiccup): the user is waiting for it
        logging.getLogger("app").warning("%s %s not all made after the request; the job will", what, ids)
    return work


@event.listens_for(Session, "after_soft_rollback")
def _drop_caches_on_rollback(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_TX_CACHES, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_caches_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_TX_CACHES, None)


def register_pending_work(info_key: str) -> None:
    """Work outside the tables that a session keeps in ``session.info[info_key]`` until it commits (e.g. files
    written for this transaction): a session holding some counts as having uncommitted work."""
    _pending_work_keys.add(info_key)


def has_uncommitted_work(session: Session) -> bool:
    """True when the session's transaction wrote or locked something (on PostgreSQL: holds row locks), or
    has changes a rollback would lose. Such a transaction must not wait on another party (app/integrations/
    answers.py); one without any may be ended at once, releasing SQLite's write lock (BEGIN IMMEDIATE)."""
    if session.new or session.dirty or session.deleted:
        return True
    if session.info.get(_ROW_LOCKS) or any(session.info.get(key) for key in _pending_work_keys):
        return True
    if not session.in_transaction():
        return False
    return bool(session.connection().info.get(_WRITES))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    # BEGIN IMMEDIATE: writers queue on SQLite's lock instead of failing late with "database is locked".
    @event.listens_for(engine, "connect")
    def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def one_snapshot(session: Session) -> None:
    """Let the transaction ``session`` is about to begin read the database as of one moment: a verification
    that reads the register book, then the rights, then the audit head (app/registry/verify.py, the checkpoint
    job) must not see a 登簿 committed between its reads as a break. PostgreSQL: REPEATABLE READ (the writes
    such a check makes are new rows, which cannot conflict); SQLite: BEGIN IMMEDIATE already keeps writers out.
    Only a fresh transaction can be set so: in one already begun (a caller's earlier reads) it stays as it is."""
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def locked_row(session: Session, model: type[Any], defaults: dict[str, Any], **keys: Any) -> Any:
    """The row of ``model`` identified by ``keys``, locked FOR UPDATE until the caller's transaction ends;
    created with ``defaults`` on first use in a savepoint, since two transactions may race to create it."""

    def locked() -> Any:
        return session.execute(select(model).filter_by(**keys).with_for_update()
                               .execution_options(populate_existing=True)).scalar_one_or_none()

    row = locked()
    if row is None:
        try:
            with session.begin_nested():
                session.add(model(**keys, **defaults))
        except IntegrityError:
            pass
        row = locked()
        assert row is not None
    return row


def next_counter_value(session: Session, model: type[Any], **keys: Any) -> int:
    """Increment the counter row ``model`` identified by ``keys`` (a ``last`` column) inside the caller's
    transaction. The row stays locked until the transaction ends, so numbers are gap-free: a rolled-back
    transaction gives its number back. One statement (issue 18: a locking read, then the UPDATE): the UPDATE
    takes the lock and returns the number; only a counter's first use creates its row first (``locked_row``)."""
    taken = session.execute(update(model).filter_by(**keys).values(last=model.last + 1).returning(model.last)
                            .execution_options(synchronize_session=False)).scalar_one_or_none()
    if taken is None:
        counter = locked_row(session, model, {"last": 0}, **keys)
        counter.last += 1
        session.flush()
        return int(counter.last)
    for row in list(session.identity_map.values()):  # a copy this session holds shows the number taken
        if isinstance(row, model) and all(getattr(row, k) == v for k, v in keys.items()):
            set_committed_value(row, "last", taken)
    return int(taken)
