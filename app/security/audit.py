"""Appending to and verifying the hash-chained audit log, and the access log of reads.

Callers pass before/after dictionaries that carry no personal data (ids, statuses, decisions); the audit
trail is read by operators, so it must not become a second copy of the encrypted fields.

Two logs, one module: ``record`` appends a state change (or a security-relevant act such as unmasking) to
the hash chain — every appender locks the chain's head row until its transaction commits, so appends are
serialized. ``record_access`` logs a plain read (a material viewed, a register query) into the unchained
``access_log``: the case page records such reads at the start of a request, and with the chain they made
every concurrent case-page view wait for the previous one to finish (bench/audit_contention.py measures
it). Both are read through this module (``access_entries``) so the operators' log pages see one trail.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Select, Update, cast, event, insert, literal, select, union_all, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.db import affected_rows, engine_cache, register_pending_work, utcnow
from app.security.models import AccessEntry, AuditEntry, AuditHead

GENESIS = "0" * 64
_HEAD = "audit_head"  # engine cache: (seq, hash) of the head this process last wrote or read, a guess the
# UPDATE's WHERE checks
_PENDING = "audit_pending"  # session.info: (transaction recorded in, entry) not yet chained


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq, "at": entry.at.isoformat(), "actor_id": entry.actor_id, "tenant_id": entry.tenant_id,
        "action": entry.action, "object_type": entry.object_type, "object_id": entry.object_id,
        "before": entry.before, "after": entry.after,
    }


def record(session: Session, *, actor_id: str | None, action: str, object_type: str, object_id: str | None,
           tenant_id: str | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> AuditEntry:
    """Append a state change to the chain when the transaction commits (its ``seq`` and hashes are set then).

    Why at commit: a step records several entries (submit: up to 8), and reading and updating the head for
    each was 3 statements apiece, a sixth of a lifecycle's SQL (issue 18); at commit the head is locked and
    updated once and the entries inserted together. The lock is also held for less time, and taken last, in
    the house order (case → unit → chain heads). A rolled-back transaction or savepoint drops what it
    recorded; a query that reads the chain in the same transaction writes the waiting entries first."""
    entry = AuditEntry(at=utcnow(), actor_id=actor_id, tenant_id=tenant_id, action=action, object_type=object_type,
                       object_id=object_id, before=before, after=after)
    if not session.in_transaction():  # so that a rollback, even of nothing else, drops the entry
        session.begin()
    recorded_in = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((recorded_in, entry))
    return entry


_KEPT = "audit_kept"  # session.info: entries a request writes whatever it answers (``record_kept``)


def record_kept(session: Session, *, actor_id: str | None, action: str, object_type: str, object_id: str | None,
                tenant_id: str | None = None, after: dict[str, Any] | None = None) -> None:
    """An entry the request's end writes whatever the request answers (``write_kept``, app/web.py): the trace of
    a refusal that answers with an error and so rolls back the request's own writes (a staff sign-in refused
    over the internet zone, app/identity/zones.py). Queued once however often the request asks (a view run
    again, two look-ups of the same credential)."""
    fields = {"actor_id": actor_id, "action": action, "object_type": object_type, "object_id": object_id,
              "tenant_id": tenant_id, "after": after}
    kept: list[dict[str, Any]] = session.info.setdefault(_KEPT, [])
    if fields not in kept:
        kept.append(fields)


def write_kept(session: Session) -> bool:
    """Record what ``record_kept`` queued on ``session`` into its current transaction (the caller commits it;
    after a rollback, in a fresh one); whether there was any."""
    kept: list[dict[str, Any]] = session.info.pop(_KEPT, None) or []
    for fields in kept:
        record(session, **fields)
    return bool(kept)


def write_pending(session: Session) -> None:
    """Chain the entries recorded in this transaction onto the head, locked until the transaction ends.

    One statement when this process knows the head (issue 18): the head this process last wrote or read is
    kept per engine, the entries are chained onto it, and one conditional UPDATE moves the head on only if it
    still is that head (same seq and hash), locking it. Another process (gunicorn worker, job runner) that
    appended meanwhile makes it match no row; then the head is read under lock and updated as before (three
    statements instead of two). The WHERE clause, not the memory, makes the chain right: entries are only
    ever chained onto the head the database holds at that moment."""
    pending: list[tuple[SessionTransaction | None, AuditEntry]] = session.info.pop(_PENDING, None) or []
    if not pending:
        return
    # Every row this transaction writes is written (and locked) before the head: at commit SQLAlchemy calls
    # this before its final flush, and the head must be the last lock taken (case → unit → audit head).
    session.flush()
    entries = [entry for _, entry in pending]
    seen = engine_cache(session)
    known = seen.get(_HEAD)
    if known is not None:
        seq, hash_ = _chain(entries, *known)
        moved_head = (update(AuditHead).where(AuditHead.id == 1, AuditHead.seq == known[0],
                                              AuditHead.hash == known[1]).values(seq=seq, hash=hash_))
        if session.get_bind().dialect.name == "postgresql":
            if session.execute(_insert_if_moved(entries, moved_head)).all():  # the rows inserted, or none
                seen[_HEAD] = (seq, hash_)
                return
        elif affected_rows(session.execute(moved_head)):
            seen[_HEAD] = (seq, hash_)
            session.add_all(entries)
            return
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    head.seq, head.hash = _chain(entries, head.seq, head.hash)
    seen[_HEAD] = (head.seq, head.hash)
    session.add_all(entries)


def _insert_if_moved(entries: list[AuditEntry], moved_head: Update) -> Insert:
    """PostgreSQL: the head's conditional UPDATE and the entries' INSERT in one statement (issue 18: two per
    transaction): the UPDATE runs in a WITH clause and the entries are inserted once per row it moved — one
    row, or none when the head is no longer the one they were chained onto (nothing written then; the rows
    the INSERT returns say which: the driver gives no row count for it). The entries go in as the ORM would
    write them (each value through its column's type); the objects stay outside the session, written rows
    that nothing changes."""
    moved = moved_head.returning(AuditHead.id).cte("moved_head")
    columns = list(AuditEntry.__table__.columns)
    rows = [select(*[cast(literal(getattr(entry, c.key), c.type), c.type) for c in columns]).select_from(moved)
            for entry in entries]
    return (insert(AuditEntry).from_select([c.key for c in columns], rows[0] if len(rows) == 1 else union_all(*rows))
            .add_cte(moved).returning(AuditEntry.seq))


def _chain(entries: list[AuditEntry], seq: int, hash_: str) -> tuple[int, str]:
    """Number and hash ``entries`` after the head (seq, hash); the new head."""
    for entry in entries:
        entry.seq = seq + 1
        entry.hash = _digest(hash_, _fields(entry))
        seq, hash_ = entry.seq, entry.hash
    return seq, hash_


register_pending_work(_PENDING)  # a transaction holding unwritten entries has work to lose (answers.must_wait)


@event.listens_for(Session, "before_commit")
def _write_on_commit(session: Session) -> None:
    """Also when a savepoint is released: what it holds then belongs to its parent, and a root commit that
    releases open savepoints first calls this while they are still open, so waiting for "the root" could miss
    it."""
    write_pending(session)


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading_chain(state: ORMExecuteState) -> None:
    """Read-your-writes: the chain read in the transaction that recorded entries includes them."""
    if state.session.info.get(_PENDING) and any(m.class_ in (AuditEntry, AuditHead) for m in state.all_mappers):
        write_pending(state.session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if not transaction.nested:
        session.info.pop(_PENDING, None)
        return
    session.info[_PENDING] = [(tx, entry) for tx, entry in pending if not _within(tx, transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (written above), rolled back or closed: nothing carries over
        session.info.pop(_PENDING, None)


def _within(tx: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while tx is not None:
        if tx is outer:
            return True
        tx = tx.parent
    return False


def record_access(session: Session, *, actor_id: str | None, action: str, object_type: str,
                  object_id: str | None, tenant_id: str | None = None,
                  after: dict[str, Any] | None = None) -> AccessEntry:
    """Log a read (no personal data in ``after``); never waits for other appenders."""
    entry = AccessEntry(at=utcnow(), actor_id=actor_id, tenant_id=tenant_id, action=action,
                        object_type=object_type, object_id=object_id, after=after)
    session.add(entry)
    return entry


def access_entries(*, action: str | None = None, object_ids: set[str] | None = None,
                   actor_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
                   tenant_scope: frozenset[str] | None = None) -> Select[AccessEntry]:
    """The access log filtered like the audit trail (newest first), for the operators' log pages and traces."""
    q = select(AccessEntry)
    if action:
        q = q.where(AccessEntry.action.startswith(action, autoescape=True))
    if object_ids is not None:
        q = q.where(AccessEntry.object_id.in_(object_ids))
    if actor_id:
        q = q.where(AccessEntry.actor_id == actor_id)
    if since:
        q = q.where(AccessEntry.at >= since)
    if until:
        q = q.where(AccessEntry.at < until)
    if tenant_scope is not None:
        q = q.where(AccessEntry.tenant_id.in_(tenant_scope))
    return q.order_by(AccessEntry.at.desc(), AccessEntry.id.desc())


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(session: Session, batch: int = 1000) -> list[ChainBreak]:
    """Recompute every hash in order from the anchor (genesis, or the last entry retention purged); report
    the first entry of each break. A head that does not match the last entry (entries cut off the end) is a
    break too.

    The entries checked are those up to the head as read first: the head and the entries it covers commit
    together, so every one of them is visible by then, while appends committed during the check (each batch
    is its own statement, which under READ COMMITTED sees them) are left to the next check. Without the bound
    a busy platform's checkpoint job found "entries after N are missing" and refused to sign (issue 18)."""
    problems: list[ChainBreak] = []
    head = session.get(AuditHead, 1)
    anchor_seq, anchor_hash = (head.anchor_seq, head.anchor_hash) if head is not None else (0, GENESIS)
    prev_hash, expected_seq, last_seq = anchor_hash, anchor_seq + 1, anchor_seq
    upto = head.seq if head is not None else None
    while True:
        stmt = select(AuditEntry).where(AuditEntry.seq > last_seq)
        if upto is not None:
            stmt = stmt.where(AuditEntry.seq <= upto)
        rows = session.execute(stmt.order_by(AuditEntry.seq).limit(batch)).scalars().all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                problems.append(ChainBreak(entry.seq, f"missing entries before {entry.seq}"))
            if _digest(prev_hash, _fields(entry)) != entry.hash:  # its content, or its link to the previous
                problems.append(ChainBreak(entry.seq, "content does not match its hash"))
            prev_hash, expected_seq, last_seq = entry.hash, entry.seq + 1, entry.seq
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        problems.append(ChainBreak(head.seq, f"entries after {last_seq} are missing"))
    return problems


def chain_status(session: Session) -> dict[str, Any]:
    """What the operator's verify page and command show: entries kept, anchor, and every break found."""
    head = session.get(AuditHead, 1)
    breaks = verify_chain(session)
    return {"ok": not breaks, "breaks": breaks, "head_seq": head.seq if head else 0,
            "anchor_seq": head.anchor_seq if head else 0,
            "entries": (head.seq - head.anchor_seq) if head else 0}
