"""``flask outbox …``: the transactional outbox — draining it, pruning sent messages, dead letters, putting one
back."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.vocabulary import OutboxStatus

outbox = AppGroup("outbox", help="消息外发（事务性发件箱）")
DELIVERY_LABELS = {OutboxStatus.PENDING: "待送达", OutboxStatus.SENT: "已送达", OutboxStatus.DEAD: "死信"}


@outbox.command("deliver")
def deliver_command() -> None:
    """Drain due messages (what the scheduler job runs: ``OUTBOX_DELIVERERS`` deliverers, a key's messages in
    order, until nothing is due or ``OUTBOX_BUDGET_SECONDS`` is spent), under the job lease."""
    from app.integrations.outbox import drain, session_factory_of

    settings = current_app.config["SETTINGS"]
    report = current_app.extensions["run_job"]("outbox", lambda s: drain(
        session_factory_of(s), deliverers=settings.outbox_deliverers, budget_s=settings.outbox_budget_seconds,
        max_attempts=settings.outbox_max_attempts))
    click.echo("另一进程正在投递，本次跳过" if report is None else str(report))


@outbox.command("prune")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="保留天数（默认 OUTBOX_RETENTION_DAYS；0 = 已送达即删除）")
def prune_command(days: int | None) -> None:
    """Delete sent messages older than the retention (what the ``outbox_prune`` job runs), under its lease;
    dead letters stay."""
    from app.integrations.outbox import prune_sent, session_factory_of

    retention = current_app.config["SETTINGS"].outbox_retention_days if days is None else days
    deleted = current_app.extensions["run_job"]("outbox_prune", lambda s: prune_sent(session_factory_of(s), retention))
    click.echo("另一进程正在清理，本次跳过" if deleted is None
               else f"已删除已送达消息 {deleted} 条（保留 {retention} 天）")


@outbox.command("list")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]), default=OutboxStatus.DEAD.value)
def list_command(status: str) -> None:
    """Messages by status (default: dead letters, for operators), each with its receivers' state."""
    from app.integrations.outbox import listing

    with current_app.extensions["db"].unit_of_work() as session:
        rows = listing(session, status=status)
        for m in rows:
            click.echo(f"{m['id']}  {m['topic']}  {m['idempotency_key']}  尝试 {m['attempts']} 次  "
                       f"{m['last_error'] or ''}")
            for d in m["deliveries"]:
                click.echo(f"    → {d['interface']}  {DELIVERY_LABELS.get(d['status'], d['status'])}  "
                           f"尝试 {d['attempts']} 次  {d['last_error'] or ''}")
    click.echo(f"共 {len(rows)} 条（{status}）")


@outbox.command("retry")
@click.argument("message_id")
def retry_command(message_id: str) -> None:
    """Put a dead message back in the queue for its dead receivers (after the subscriber is fixed)."""
    from app.integrations.models import OutboxMessage
    from app.integrations.outbox import retry_dead
    from app.security import audit

    with current_app.extensions["db"].unit_of_work() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            click.echo("没有该消息", err=True)
            sys.exit(1)
        before = {"status": message.status, "attempts": message.attempts}
        receivers = retry_dead(session, message)
        audit.record(session, actor_id=None, action="outbox.retry", object_type="outbox_message",
                     object_id=message.id, before=before,
                     after={"status": OutboxStatus.PENDING, "receivers": receivers})
    click.echo("已重新排队" + (f"（{'、'.join(receivers)}）" if receivers else ""))
