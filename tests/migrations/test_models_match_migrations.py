"""The Alembic head and the ORM models describe the same schema."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import app.models  # noqa: F401
from app.db import Base


def _made_on(dialect: str) -> Callable[..., bool]:
    """Leaves out of the comparison the model's objects made on another database only (``ddl_if``: the
    PostgreSQL trigram indexes of ``app/registry/models.py``), which Alembic would otherwise report missing."""
    def include(obj: Any, _name: str | None, _type: str, reflected: bool, _compare_to: Any) -> bool:
        ddl_if = getattr(obj, "_ddl_if", None)
        return reflected or ddl_if is None or ddl_if.dialect in (None, dialect)
    return include


def test_the_migrated_database_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": _made_on(engine.dialect.name)})
        diff: list[Any] = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []
