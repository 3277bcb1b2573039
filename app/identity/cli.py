"""``flask users …``: create an account; sync accounts from the government platform's directory."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

users = AppGroup("users", help="账号管理")


@users.command("create")
@click.argument("username")
@click.option("--password", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="角色代码，可重复")
@click.option("--tenant", default=None, help="辖区代码，如 330106")
@click.option("--real-name", default=None)
@click.option("--id-number", default=None)
@click.option("--phone", default=None)
def create_user_command(username: str, password: str, roles: tuple[str, ...], tenant: str | None,
                        real_name: str | None, id_number: str | None, phone: str | None) -> None:
    """Create an account."""
    from app.errors import DomainError
    from app.identity.service import create_user

    try:
        with current_app.extensions["db"].unit_of_work() as session:
            user = create_user(session, username=username, password=password, roles=list(roles),
                               tenant_id=tenant, real_name=real_name, id_number=id_number, phone=phone)
            click.echo(f"created {user.username} ({user.id})")
    except DomainError as exc:
        for field, messages in (exc.errors or {"_": [exc.message]}).items():
            click.echo(f"{field}: {'；'.join(messages)}", err=True)
        sys.exit(1)


@users.command("sync")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="全量同步：停用目录中已不存在的同步账户")
def sync_command(file: Path, full: bool) -> None:
    """Sync accounts from the government platform's directory (.jsonl or .csv); idempotent; all or nothing."""
    from app.identity.actor import Actor
    from app.identity.sync import read_directory, sync_users
    from app.import_files import echo_report

    cli_actor = Actor(user_id=None, username="cli", kind="system", permissions=frozenset({"user:sync"}),
                      city_level=True)
    records, problems = read_directory(file)
    with current_app.extensions["db"].unit_of_work() as session:
        report = sync_users(session, cli_actor, records, full=full, problems=problems)
        if not report.ok:
            session.rollback()
    echo_report(report, failed="同步失败", done="同步完成：")
