"""``flask defs …``: business definitions (processes, forms, material checklists) — check, load, export."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

defs = AppGroup("defs", help="业务定义（流程、表单、材料清单）")


@defs.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
def check_command(path: Path | None) -> None:
    """Validate definitions without loading them; exit 1 with file/element/line on error."""
    from app.catalog.definitions import check_definitions
    from app.identity.roles import role_names

    root = current_app.config["SETTINGS"].definitions_root
    try:  # roles operators created count as lane roles; a database not set up yet has none
        with current_app.extensions["db"].unit_of_work() as session:
            lane_roles = role_names(session)
    except SQLAlchemyError:
        lane_roles = {}
    problems = check_definitions(root, only=path.resolve() if path else None, roles=lane_roles)
    for problem in problems:
        click.echo(f"错误：{problem.message}", err=True)
    if problems:
        sys.exit(1)
    click.echo("定义检查通过")


@defs.command("load")
def load_command() -> None:
    """Load definitions into the database (changed files become new versions)."""
    from app.catalog.service import sync_definitions

    with current_app.extensions["db"].unit_of_work() as session:
        for line in sync_definitions(session, current_app.config["SETTINGS"].definitions_root):
            click.echo(line)


@defs.command("export")
@click.argument("codes", nargs=-1)
def export_command(codes: tuple[str, ...]) -> None:
    """Write the current versions (all types, or CODES) back to processes/ and forms/ for git."""
    from app.catalog.config import export_type
    from app.catalog.service import list_business_types
    from app.identity.actor import Actor

    cli_actor = Actor(user_id=None, username="cli", kind="system", permissions=frozenset({"defs:manage"}),
                      city_level=True)
    root = current_app.config["SETTINGS"].definitions_root
    with current_app.extensions["db"].unit_of_work() as session:
        for code in codes or [bt.code for bt, _ in list_business_types(session)]:
            written = export_type(session, cli_actor, root, code)
            click.echo(f"{code}: {'、'.join(written) if written else '文件已是当前版本'}")
