"""Scheduled jobs (APScheduler): outbox delivery, workflow timers (完税 escalation), 税务 reconciliation and
the daily log purge (retention).

Several app processes may run the scheduler; each job first takes a lease row in ``job_lease`` (an atomic
conditional UPDATE — the database is the coordination point, DESIGN.md §6), so exactly one process runs a
given job at a time and another takes over when a holder dies and its lease expires. Each job run is one
unit of work: it commits once or not at all.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import Database, utcnow
from app.integrations.models import JobLease

log = logging.getLogger(__name__)
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(database: Database, name: str, ttl_s: int = 60, holder: str = HOLDER) -> bool:
    """Take (or renew) the lease of job ``name`` for ``ttl_s`` seconds; False when another holder has it."""
    now = utcnow()
    with database.unit_of_work() as session:
        taken = session.execute(update(JobLease).where(
            JobLease.name == name, (JobLease.holder == holder) | (JobLease.expires_at < now))
            .values(holder=holder, expires_at=now + timedelta(seconds=ttl_s))).rowcount
        if taken:
            return True
    try:
        with database.unit_of_work() as session:
            if session.get(JobLease, name) is not None:
                return False
            session.add(JobLease(name=name, holder=holder, expires_at=now + timedelta(seconds=ttl_s)))
        return True
    except IntegrityError:
        return False


def release_lease(database: Database, name: str, holder: str = HOLDER) -> None:
    with database.unit_of_work() as session:
        session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                        .values(expires_at=utcnow()))


def run_job(database: Database, name: str, work: Callable[[Session], Any], ttl_s: int = 60) -> Any:
    """Run ``work`` in one transaction if this process holds the job's lease; None when it does not."""
    if not acquire_lease(database, name, ttl_s):
        return None
    try:
        with database.unit_of_work() as session:
            return work(session)
    finally:
        release_lease(database, name)


def deliver_outbox(session: Session, max_attempts: int = 8) -> Any:
    from app.integrations.outbox import deliver_pending

    return deliver_pending(session, max_attempts=max_attempts)


def refresh_tax_waits(session: Session) -> int:
    """Fire due 完税 escalation timers and reconcile with 税务 (a lost callback is found by asking)."""
    from app.integrations.reconcile import refresh_waiting_cases

    return refresh_waiting_cases(session)


def purge_old_logs(session: Session, days: int) -> Any:
    """Delete logs older than the retention period (at least a year; app.supervision.retention)."""
    from app.supervision.retention import purge_logs

    return purge_logs(session, days)


def start_scheduler(app: Any) -> Any:
    """Start the background scheduler for this process (``SCHEDULER_ENABLED=1``; ``make run`` sets it)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    database: Database = app.extensions["db"]
    settings = app.config["SETTINGS"]
    scheduler = BackgroundScheduler(timezone="UTC")

    def guarded(name: str, work: Callable[[Session], Any]) -> Callable[[], None]:
        def job() -> None:
            try:
                with app.app_context():
                    run_job(database, name, work)
            except Exception:  # a failed run is retried at the next tick; never kill the scheduler
                log.exception("job %s failed", name)
        return job

    scheduler.add_job(guarded("outbox", lambda s: deliver_outbox(s, settings.outbox_max_attempts)),
                      "interval", seconds=10, id="outbox", max_instances=1, coalesce=True)
    scheduler.add_job(guarded("tax_waits", refresh_tax_waits), "interval", seconds=60, id="tax_waits",
                      max_instances=1, coalesce=True)
    scheduler.add_job(guarded("log_purge", lambda s: purge_old_logs(s, settings.log_retention_days)),
                      "cron", hour=3, minute=17, id="log_purge", max_instances=1, coalesce=True)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    return scheduler
