"""PostgreSQL's two roles: migrations run as the tables' owner, the application as a role that owns none.

An owner can disable the append-only trigger, truncate the book or rewrite the audit chain in one statement.
The app's role (the user in ``DATABASE_URL``) is granted only what the code does: read and write the working
tables, append to ``register_entry``, ``audit_entry`` and the archive's ``archive_file`` / ``archive_holder``
(no UPDATE, no TRUNCATE; DELETE of audit entries only for the retention purge), use the sequences. ``flask
setup`` (and the tests) re-grant after every migration, so a new table is covered. SQLite has no roles: there
the signed checkpoints are the guard.
"""
from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

APPEND_ONLY = {"register_entry": "SELECT, INSERT", "audit_entry": "SELECT, INSERT, DELETE",
               "archive_file": "SELECT, INSERT", "archive_holder": "SELECT, INSERT",  # fixity records (电子档案)
               "alembic_version": "SELECT"}


def app_role_of(database_url: str) -> str | None:
    url = make_url(database_url)
    return url.username if url.get_backend_name() == "postgresql" else None


def grant_app_role(owner_url: str, role: str) -> None:
    """Grant ``role`` what the application needs and nothing more (idempotent)."""
    if make_url(owner_url).get_backend_name() != "postgresql":
        return
    quoted = '"' + role.replace('"', '""') + '"'
    engine = create_engine(owner_url)
    with engine.begin() as conn:
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
        for table, allowed in APPEND_ONLY.items():
            conn.execute(text(f"REVOKE ALL ON {table} FROM {quoted}"))
            conn.execute(text(f"GRANT {allowed} ON {table} TO {quoted}"))
    engine.dispose()
