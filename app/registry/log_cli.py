"""``flask registry checkpoint | export-log | verify-log``: the signed checkpoints and the one-way export
of the register log (app/registry/checkpoints.py, log_export.py). ``verify-log`` needs no database: a
receiving zone runs it with the registration authority's public key."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from app.db import Database


def add_log_commands(group: AppGroup, database: Callable[[], Database],
                     run_checkpoint: Callable[[Database], Any]) -> None:
    """``run_checkpoint``: what the checkpoint job runs (app/jobs.py), passed in by the CLI: the register
    knows nothing of the scheduler."""
    @group.command("checkpoint")
    def checkpoint_command() -> None:
        """Sign, time-stamp and export a checkpoint of every chain head now (what the checkpoint job runs)."""
        from app.errors import DomainError
        try:
            result = run_checkpoint(database())
        except DomainError as exc:
            click.echo(f"错误：{exc.message}", err=True)
            sys.exit(1)
        click.echo("另一进程正在签发，本次跳过" if result is None else str(result))

    @group.command("export-log")
    @click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--since", type=int, default=None, help="只导出该检查点之后的记载（增量包）")
    def export_log_command(out: Path, since: int | None) -> None:
        """Write the signed register-log package up to the latest checkpoint (one-way export, guide 一.四)."""
        import json

        from app.errors import DomainError
        from app.registry.checkpoints import checkpoint_log
        from app.registry.log_export import export_package

        try:
            with database().unit_of_work() as session:
                package = export_package(session, checkpoint_log(), since)
        except DomainError as exc:
            click.echo(f"错误：{exc.message}", err=True)
            sys.exit(1)
        out.write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
        click.echo(f"已导出日志包 #{package['package']}：{len(package['entries'])} 条记载 → {out}")

    @group.command("verify-log")
    @click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--public-key", "public_key", required=True, type=click.Path(exists=True, path_type=Path),
                  help="登记机构签名证书或公钥（PEM）")
    @click.option("--tsa-root", type=click.Path(exists=True, path_type=Path), default=None,
                  help="时间戳机构根证书（PEM），用于验证时间戳的签发者")
    def verify_log_command(package: Path, public_key: Path, tsa_root: Path | None) -> None:
        """Check an exported package with the public key alone (no database): signatures, Merkle root,
        every chain against the signed heads, time stamps."""
        import json

        from app.registry.log_export import verify_package

        data = json.loads(package.read_text(encoding="utf-8"))
        check = verify_package(data, public_key.read_bytes(), tsa_root.read_bytes() if tsa_root else None)
        for problem in check.problems:
            click.echo(f"错误：{problem}", err=True)
        for note in check.notes:
            click.echo(note)
        if not check.ok:
            sys.exit(1)
        click.echo(f"日志包校验通过：检查点 #{data['package']}，{len(data['entries'])} 条记载")

