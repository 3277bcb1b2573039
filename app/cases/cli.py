"""``flask tax-waits`` and ``flask verifications …``: the data-sharing jobs run once by hand (app/cases/sharing)
and the checks still waiting for a department."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext


@click.command("tax-waits")
@with_appcontext
def tax_waits_command() -> None:
    """Fire due 完税 escalation timers and reconcile unpaid tax cases with 税务 (the scheduler job)."""
    from app.cases.sharing.reconcile import refresh_waiting_cases

    moved = current_app.extensions["run_job"]("tax_waits", refresh_waiting_cases)
    click.echo("另一进程正在处理，本次跳过" if moved is None else f"{moved} 件业务有进展")


verifications = AppGroup("verifications", help="部门核验（部门暂不可用时待重新核验的业务）")


@verifications.command("recheck")
def recheck_command() -> None:
    """Re-run the checks departments could not answer, where their breaker allows (the scheduler job)."""
    from app.cases.sharing.rechecks import recheck_pending

    report = current_app.extensions["run_job"]("verifications", recheck_pending)
    click.echo("另一进程正在处理，本次跳过" if report is None else str(report))


@verifications.command("pending")
def pending_command() -> None:
    """Checks still waiting for their department, per case."""
    from sqlalchemy import select

    from app.integrations.verification_models import VerificationSnapshot

    with current_app.extensions["db"].unit_of_work() as session:
        rows = session.execute(select(VerificationSnapshot).where(VerificationSnapshot.retry_state == "pending")
                               .order_by(VerificationSnapshot.checked_at)
                               .execution_options(all_tenants=True)).scalars().all()
        for s in rows:
            click.echo(f"{s.business_no}  {s.department}  {s.operation}  {s.subject_label or ''}  "
                       f"自 {s.checked_at:%Y-%m-%d %H:%M}")
    click.echo(f"共 {len(rows)} 项待部门恢复后核验")
