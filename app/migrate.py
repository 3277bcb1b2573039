"""Alembic driven from code, so `flask setup` and the tests migrate the same way."""
from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from app.config import ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


@cache
def known_revisions() -> frozenset[str]:
    """Every revision this code's migrations know (a database at none of them was migrated by newer code)."""
    return frozenset(r.revision for r in ScriptDirectory(str(ROOT / "migrations")).walk_revisions())


@cache
def head_revisions() -> frozenset[str]:
    """The revisions this code expects the database at (read once per process: the code does not change
    under a running process)."""
    return frozenset(ScriptDirectory(str(ROOT / "migrations")).get_heads())


def database_revisions(connection: Connection) -> frozenset[str]:
    """The revisions ``alembic_version`` records (empty for a database never migrated)."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())
