"""Test databases made once and copied per test: migrating and seeding take ~1 s, a copy takes a few ms.

Per test run (per pytest-xdist worker) two templates are built: ``empty`` (migrated, every table empty) and
``seeded`` (roles, definitions, demo data, interfaces). Each test that needs a database gets a fresh copy of
one of them under the same name: on SQLite a file copy, on PostgreSQL ``CREATE DATABASE … TEMPLATE …`` (a
template may have no connections, so its engines are disposed before it is copied)."""
from __future__ import annotations

import shutil
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
