"""``flask --app wsgi setup``: the one command that spans every package (migrations, roles, definitions,
interfaces, dictionaries, demo data, development keys). Each package adds its own commands in its
``init_app`` (``flask registry`` in app/registry/cli.py, ``flask defs`` in app/catalog/cli.py, …)."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.db import Database


def _db() -> Database:
    return current_app.extensions["db"]


@click.command("setup")
@with_appcontext
@click.option("--demo", is_flag=True, help="同时写入演示数据（辖区、账号、登记簿）")
def setup_command(demo: bool) -> None:
    """Migrate to head, load dictionaries and definitions; --demo seeds demo data. Idempotent."""
    from app.catalog.service import sync_definitions
    from app.identity.seed import load_roles
    from app.migrate import upgrade_to_head

    settings = current_app.config["SETTINGS"]
    upgrade_to_head(settings.migrate_database_url or settings.database_url)
    from app.db_roles import app_role_of, grant_app_role

    role = app_role_of(settings.database_url)
    if settings.migrate_database_url and role and role != app_role_of(settings.migrate_database_url):
        grant_app_role(settings.migrate_database_url, role)  # PostgreSQL: the app's role owns no table
        click.echo(f"granted the application role {role} its table privileges")
    with _db().unit_of_work() as session:
        load_roles(session)
        if settings.platform_level == "province":  # its own office numbers the province-wide 无房证明
            from app.identity.directory import ensure_province_office

            ensure_province_office(session, settings.platform_code)
        for line in sync_definitions(session, settings.definitions_root):
            click.echo(line)
    from app.integrations.interfaces import ensure_interfaces

    with _db().unit_of_work() as session:
        ensure_interfaces(session, settings)

    from app.catalog.dictionaries import seed_dictionaries

    with _db().unit_of_work() as session:
        added = seed_dictionaries(session, settings.definitions_root)
        if added:
            click.echo("dictionaries: " + ", ".join(f"{k} +{n}" for k, n in added.items()))
    if demo:
        from app.demo_platforms import seed_for_platform  # 杭州 (the default) is app.demo's seed_demo

        with _db().unit_of_work() as session:
            click.echo(seed_for_platform(session, settings.platform_level, settings.platform_code))
    from app.registry.signing import configured_paths, ensure_dev_keys

    if ensure_dev_keys(configured_paths()):  # production: the configured key files must exist
        click.echo(f"development certificate signing keys created in {configured_paths().key.parent}")
    click.echo("setup done")


def init_app(app: Flask) -> None:
    app.cli.add_command(setup_command)
