"""Test databases made once and copied per test: migrating and seeding take ~1 s, a copy takes a few ms.

Per test run (per pytest-xdist worker) two templates are built: ``empty`` (migrated, every table empty) and
``seeded`` (roles, definitions, demo data, interfaces). Each test that needs a database gets a fresh copy of
one of them under the same name: on SQLite a file copy, on PostgreSQL ``CREATE DATABASE … TEMPLATE …`` (a
template may have no connections, so its engines are disposed before it is copied)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from app.db import Base

TEMPLATES = ("empty", "seeded")


def worker_database_url(base_url: str, worker: str, suffix: str = "") -> str:
    """The URL of this worker's database (``suffix`` names a template): a sibling file on SQLite, a database
    named after the base one on PostgreSQL. Different workers never share a database."""
    url = make_url(base_url)
    tail = f"_{worker}_{suffix}" if suffix else f"_{worker}"
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "test.sqlite3")
        return url.set(database=str(path.with_name(f"{path.stem}{tail}.sqlite3"))).render_as_string()
    return url.set(database=f"{url.database}{tail}").render_as_string(hide_password=False)


def _maintenance_url(url: URL) -> URL:
    return url.set(database="postgres")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_execute(url: URL, *statements: str) -> None:
    engine = create_engine(_maintenance_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


@contextmanager
def scratch_database(base_url: str, suffix: str) -> Iterator[str]:
    """An empty database of this worker's own for a test that migrates step by step (tests/migrations), dropped
    after it."""
    url = worker_database_url(base_url, os.environ.get("PYTEST_XDIST_WORKER", "main"), suffix)
    drop(url)
    create_empty(url)
    try:
        yield url
    finally:
        drop(url)


def create_empty(url_text: str) -> None:
    """An empty database (dropped first if it exists); on SQLite the file and its WAL are removed."""
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        remove_sqlite(Path(url.database or ""))
        return
    _pg_execute(url, f"DROP DATABASE IF EXISTS {_quoted(url.database or '')} WITH (FORCE)",
                f"CREATE DATABASE {_quoted(url.database or '')}")


def drop(url_text: str) -> None:
    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        remove_sqlite(Path(url.database or ""))
    else:
        _pg_execute(url, f"DROP DATABASE IF EXISTS {_quoted(url.database or '')} WITH (FORCE)")


def _restore_sqlite(template: Path, target: Path) -> None:
    """Overwrite the database at ``target`` with ``template``'s content by SQLite's backup API, under its locks.
    Removing the file and copying a new one left a gap: a connection opened in it by a request of the previous
    test still running in the shared live server (a late browser request, a callback, the work after a
    response) made a second database beside the copy, and later requests read another state than the test's
    (a 申请书 never made, twice in CI). In place, any connection sees the one file, before or after."""
    import sqlite3

    source, destination = sqlite3.connect(template), sqlite3.connect(target, timeout=30)
    try:
        source.backup(destination)
    finally:
        source.close()
        destination.close()


def remove_sqlite(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        candidate.unlink(missing_ok=True)


def settle_sqlite(url_text: str) -> None:
    """Fold the WAL into the main file so that copying the one file copies everything."""
    url = make_url(url_text)
    if url.get_backend_name() != "sqlite":
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def copy_database(template_url: str, target_url: str) -> None:
    """Replace the database at ``target_url`` by a copy of the one at ``template_url`` (which nobody uses)."""
    template, target = make_url(template_url), make_url(target_url)
    if template.get_backend_name() == "sqlite":
        target_path = Path(target.database or "")
        if target_path.exists():  # in place, through SQLite: see _restore_sqlite
            _restore_sqlite(Path(template.database or ""), target_path)
            return
        remove_sqlite(target_path)
        shutil.copyfile(template.database or "", target_path)
        return
    _pg_execute(target, f"DROP DATABASE IF EXISTS {_quoted(target.database or '')} WITH (FORCE)",
                f"CREATE DATABASE {_quoted(target.database or '')} TEMPLATE {_quoted(template.database or '')}")


def empty_all_tables(url_text: str) -> None:
    """Delete every row the migrations may have written (the ``empty`` template holds tables, no rows)."""
    engine = create_engine(url_text)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # past the no-truncate triggers
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(text("PRAGMA foreign_keys=ON"))
    engine.dispose()


# --- PostgreSQL: resetting the rows instead of copying the database -------------------------------------------
# ``CREATE DATABASE … TEMPLATE`` costs ~0.5 s (it writes every relation file of the template), which was most of
# a PostgreSQL test's setup. A test changes rows, almost never the schema, so the worker's database is copied
# once and then reset in one transaction: every table emptied, the ``seeded`` rows put back from a snapshot
# schema inside the same database (~20 ms). A test that changed the schema (a rogue owner disabling a trigger,
# say) is noticed by the catalogue fingerprint and the database is copied afresh; so is a reset that waits on
# a lock a test left behind.

SNAPSHOT_SCHEMA = "test_snapshot"

_FINGERPRINT = """
SELECT md5(coalesce(string_agg(item, '|' ORDER BY item), '')) FROM (
  SELECT concat_ws(':', 'rel', c.relname, c.relkind, c.relacl, c.relrowsecurity) AS item
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT concat_ws(':', 'col', c.relname, a.attname, a.atttypid, a.attnotnull, a.attacl)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT concat_ws(':', 'trigger', c.relname, t.tgname, t.tgenabled, t.tgfoid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public'
  UNION ALL
  SELECT concat_ws(':', 'constraint', c.relname, r.conname, r.contype, r.convalidated)
    FROM pg_constraint r JOIN pg_class c ON c.oid = r.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public'
  UNION ALL
  SELECT concat_ws(':', 'function', p.proname, md5(p.prosrc), p.proacl)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT concat_ws(':', 'policy', polname, polrelid::regclass, md5(coalesce(pg_get_expr(polqual, polrelid), '')))
    FROM pg_policy
  UNION ALL
  SELECT concat_ws(':', 'database', datacl) FROM pg_database WHERE datname = current_database()
) AS catalogue
"""


class PostgresRows:
    """One worker's PostgreSQL test database, reset to a template's rows per test (see the comment above)."""

    def __init__(self, owner_url: str, templates: dict[str, str]) -> None:
        self.owner_url, self.templates = owner_url, templates
        self.engine = create_engine(owner_url, pool_size=1, max_overflow=0)
        self.fingerprint: str | None = None  # of the fresh copy; None: copy afresh before the next test
        self.tables: list[str] = []
        self.snapshot_tables: list[str] = []

    def reset(self, template: str, before_copy: Callable[[], None]) -> None:
        """The database as ``template`` (``empty`` or ``seeded``) left it. ``before_copy`` closes the app's
        connections when the database must be copied afresh (DROP … WITH (FORCE) would break them)."""
        if self.fingerprint is None or not self._reset_rows(template):
            before_copy()
            self._copy_afresh()
            if not self._reset_rows(template):
                raise RuntimeError("a freshly copied test database could not be reset")

    def dispose(self) -> None:
        self.engine.dispose()

    def _copy_afresh(self) -> None:
        self.engine.dispose()
        copy_database(self.templates["seeded"], self.owner_url)
        with self.engine.begin() as conn:
            self.tables = list(conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
                "ORDER BY tablename")).scalars())
            conn.execute(text(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}"))
            self.snapshot_tables = []
            for table in self.tables:
                if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM public.{_quoted(table)})")).scalar():
                    conn.execute(text(f"CREATE TABLE {SNAPSHOT_SCHEMA}.{_quoted(table)} AS "
                                      f"TABLE public.{_quoted(table)}"))
                    self.snapshot_tables.append(table)
            conn.execute(text(f"ALTER DATABASE {_quoted(self.engine.url.database or '')} "
                              "SET synchronous_commit = off"))  # a test run needs no durability across a crash
            self.fingerprint = conn.execute(text(_FINGERPRINT)).scalar_one()

    def _reset_rows(self, template: str) -> bool:
        """False when the schema changed or a lock held by a test's leftover connection is in the way."""
        from sqlalchemy.exc import OperationalError

        try:
            with self.engine.begin() as conn:
                if conn.execute(text(_FINGERPRINT)).scalar_one() != self.fingerprint:
                    self.fingerprint = None
                    return False
                conn.execute(text("SET LOCAL lock_timeout = '3s'"))
                conn.execute(text("SET LOCAL session_replication_role = replica"))  # past the append-only triggers
                conn.exec_driver_sql("; ".join(f"DELETE FROM public.{_quoted(t)}" for t in self.tables))
                if template == "seeded":
                    conn.exec_driver_sql("; ".join(
                        f"INSERT INTO public.{_quoted(t)} SELECT * FROM {SNAPSHOT_SCHEMA}.{_quoted(t)}"
                        for t in self.snapshot_tables))
        except OperationalError:
            self.fingerprint = None
            return False
        return True
