"""PostgreSQL's two roles (docs/deployment.md): the application connects as a role that owns no table, so it
can neither switch off the append-only trigger nor empty or rewrite the chains; the owner (migrations) is
refused TRUNCATE by a statement-level trigger."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError


@pytest.fixture
def app_engine(db: Any) -> Engine:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("roles and triggers are PostgreSQL's; on SQLite the signed checkpoints are the guard")
    return db.engine  # type: ignore[no-any-return]


@pytest.fixture
def owner(owner_database_url: str) -> Iterator[Engine]:
    engine = create_engine(owner_database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("statement", [
    "ALTER TABLE register_entry DISABLE TRIGGER register_entry_no_update_delete",
    "ALTER TABLE register_entry DISABLE TRIGGER ALL",
    "TRUNCATE register_entry",
    "TRUNCATE audit_entry",
    "UPDATE register_entry SET kind = 'forged'",
    "DELETE FROM register_entry",
    "UPDATE audit_entry SET action = 'forged'",
])
def test_the_application_role_cannot_touch_the_chains(app_engine: Engine, statement: str) -> None:
    with pytest.raises(DBAPIError, match="must be owner|permission denied"), app_engine.begin() as conn:
        conn.execute(text(statement))


def test_the_application_role_owns_no_table(app_engine: Engine) -> None:
    with app_engine.connect() as conn:
        owned = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                  "AND tableowner = current_user")).scalars().all()
        appended = conn.execute(text("SELECT has_table_privilege('register_entry', 'INSERT')")).scalar()
    assert owned == [] and appended is True


@pytest.mark.parametrize("table", ["register_entry", "audit_entry"])
def test_even_the_owner_is_refused_truncate(app_engine: Engine, owner: Engine, table: str) -> None:
    with pytest.raises(DBAPIError, match="TRUNCATE refused"), owner.begin() as conn:
        conn.execute(text(f"TRUNCATE {table} CASCADE"))
