"""The real APScheduler (app/jobs.py) inside the app: it delivers the outbox by itself, and of two scheduler
instances (two app objects on the same database, as two processes would be) only one runs a job at a time —
the job lease decides."""
from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

import pytest
from sqlalchemy import select
from support.waiting import wait_for

from app import create_app, jobs
from app.integrations.models import OutboxMessage

pytestmark = pytest.mark.slow


def _received_keys(simulator: Any) -> set[str]:
    with urllib.request.urlopen(f"{simulator.url}/_control/state", timeout=5) as resp:
        received = json.load(resp)["received"]
    return {m["key"] for messages in received.values() for m in messages}


def test_two_schedulers_deliver_the_outbox_one_at_a_time(seeded: Any, simulator: Any, submitted_transfer: dict,
                                                         monkeypatch: Any) -> None:
    with seeded.extensions["db"].unit_of_work() as session:
        keys = set(session.execute(select(OutboxMessage.idempotency_key)
                                   .where(OutboxMessage.status == "pending")).scalars())
    assert keys

    lock, running, most, runs, tries = threading.Lock(), [0], [0], [0], []
    stopping = threading.Event()  # the test is done: a run in progress need not wait for a rival
    real_deliver, real_acquire = jobs.deliver_outbox, jobs.acquire_lease

    def acquire(database: Any, name: str, ttl_s: int = 60, holder: str = jobs.HOLDER) -> bool:
        got = real_acquire(database, name, ttl_s, holder)
        if name == "outbox":
            with lock:
                tries.append((holder, got))
        return got

    def slow_deliver(session: Any, max_attempts: int = 8, *more: Any) -> Any:
        with lock:
            running[0] += 1
            runs[0] += 1
            most[0] = max(most[0], running[0])
        seen = len(tries)
        try:
            # Hold the run until a scheduler has tried for the lease meanwhile (and found it taken): without the
            # lease that other run would overlap this one, which ``most`` would show.
            wait_for(lambda: stopping.is_set() or any(not got for _, got in tries[seen:]),
                     "a turn skipped during this run", timeout_s=10)
            return real_deliver(session, max_attempts, *more)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(jobs, "acquire_lease", acquire)
    monkeypatch.setattr(jobs, "deliver_outbox", slow_deliver)
    other = create_app(seeded.config["SETTINGS"])  # a second process on the same database
    every = {"outbox": 0.1, "tax_waits": 3600, "verifications": 3600}
    schedulers = [jobs.start_scheduler(seeded, every), jobs.start_scheduler(other, every)]
    try:
        wait_for(lambda: keys <= _received_keys(simulator), "the scheduler to deliver the outbox", timeout_s=30)
        wait_for(lambda: len({h for h, got in tries if got}) == 2 or runs[0] >= 12, "more runs", timeout_s=10)
    finally:
        stopping.set()
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
        other.extensions["db"].engine.dispose()
    holders = {h for h, _ in tries}
    assert holders == {seeded.extensions["scheduler_holder"], other.extensions["scheduler_holder"]}
    assert any(not got for _, got in tries)  # a scheduler found the lease taken and skipped its turn
    assert most[0] == 1 and runs[0] >= 2  # never two delivery runs at once
    with seeded.extensions["db"].unit_of_work() as session:
        left = session.execute(select(OutboxMessage).where(OutboxMessage.idempotency_key.in_(keys),
                                                           OutboxMessage.status != "sent")).scalars().all()
    assert left == []
