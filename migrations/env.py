"""Alembic environment: target metadata is every context's models (app.models)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from app import models
from app.config import database_url_from_env

config = context.config
target_metadata = models.Base.metadata

url = config.get_main_option("sqlalchemy.url")
if not url:
    url = database_url_from_env()
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
