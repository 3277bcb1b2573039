"""``flask outbox …``: the transactional outbox — one delivery pass, dead letters, putting one back."""
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
    """One delivery pass over due messages (what the scheduler job runs), under the job lease."""
    from app.integrations.outbox import deliver_pending

    max_attempts = current_app.config["SETTINGS"].outbox_max_attempts
    report = current_app.extensions["run_job"]("outbox", lambda s: deliver_pending(s, max_attempts=max_attempts))
    click.echo("另一进程正在投递，本次跳过" if report is None else str(report))


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
