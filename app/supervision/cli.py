"""``flask logs …``: the retention purge and the audit chain check."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

logs = AppGroup("logs", help="日志：保留期清理、审计链校验")


@logs.command("purge")
@click.option("--days", type=int, default=None, help="保留天数（默认 LOG_RETENTION_DAYS，不得少于 365）")
def purge_command(days: int | None) -> None:
    """Delete logs older than the retention period (what the daily job runs), under the job lease."""
    from app.errors import ValidationFailed
    from app.supervision.retention import purge_logs

    keep = days if days is not None else current_app.config["SETTINGS"].log_retention_days
    try:
        report = current_app.extensions["run_job"]("log_purge", lambda s: purge_logs(s, keep))
    except ValidationFailed as exc:
        click.echo(f"错误：{exc.message}", err=True)
        sys.exit(1)
    click.echo("另一进程正在清理，本次跳过" if report is None else str(report))


@logs.command("verify-audit")
def verify_audit_command() -> None:
    """Recompute the audit log's hash chain from its anchor and compare it with the latest signed
    checkpoint; exit 1 listing each break."""
    from app.registry.checkpoints import checkpoint_log
    from app.registry.verify import audit_status

    with current_app.extensions["db"].unit_of_work() as session:
        status = audit_status(session, checkpoint_log().latest())
    for brk in status["breaks"]:
        click.echo(f"错误：第 {brk.seq} 条：{brk.reason}", err=True)
    if not status["ok"]:
        sys.exit(1)
    click.echo(f"审计链校验通过：{status['entries']} 条（锚点 #{status['anchor_seq']}，"
               f"最新 #{status['head_seq']}）")
