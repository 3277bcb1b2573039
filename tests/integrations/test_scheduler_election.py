"""Of several processes with the scheduler enabled, the holder of the ``scheduler`` lease runs it
(app/jobs.py ``SchedulerElection``): a second candidate waits, a graceful stop hands the lease over at once, a
holder that dies leaves it to expire. Turns are taken by hand here; tests/integrations/test_gunicorn_serving.py
runs the same over real gunicorn workers."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from app.db import utcnow
from app.integrations.models import JobLease
from app.jobs import INTERVALS_S, SCHEDULER_LEASE, SchedulerElection

NO_RUNS = {name: 3600.0 for name in INTERVALS_S}  # no job comes due while the test runs


def _holder(db: Any) -> str:
    with db.unit_of_work() as session:
        lease = session.get(JobLease, SCHEDULER_LEASE)
        return lease.holder if lease is not None and lease.expires_at > utcnow() else ""


def test_one_candidate_runs_the_scheduler_and_hands_it_over_on_stop(app: Flask, db: Any) -> None:
    first, second = SchedulerElection(app, 30, NO_RUNS), SchedulerElection(app, 30, NO_RUNS)
    try:
        first.turn()
        second.turn()
        assert first.scheduler is not None and second.scheduler is None
        assert _holder(db) == first.holder
        first.turn()  # renewing keeps it
        second.turn()
        assert (first.scheduler is not None, second.scheduler is None) == (True, True)

        first.stop()  # graceful: released, so the next turn of another candidate takes it at once
        assert first.scheduler is None and _holder(db) == ""
        second.turn()
        assert second.scheduler is not None and _holder(db) == second.holder
    finally:
        first.stop()
        second.stop()


def test_a_dead_holder_is_replaced_once_its_lease_expired_and_a_late_one_stops(app: Flask, db: Any) -> None:
    dead, heir = SchedulerElection(app, 30, NO_RUNS), SchedulerElection(app, 30, NO_RUNS)
    try:
        dead.turn()
        heir.turn()
        assert heir.scheduler is None
        with db.unit_of_work() as session:  # the holder was killed 31 s ago: nothing renewed its lease
            session.get(JobLease, SCHEDULER_LEASE).expires_at = utcnow() - timedelta(seconds=1)
        heir.turn()
        assert heir.scheduler is not None and _holder(db) == heir.holder
        dead.turn()  # it was only stalled and wakes up: it finds the lease taken and stops its scheduler
        assert dead.scheduler is None and _holder(db) == heir.holder
    finally:
        dead.stop()
        heir.stop()
