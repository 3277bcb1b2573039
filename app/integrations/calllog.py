"""Call logs and circuit-breaker changes that outlive the business transaction.

A department call is made with no transaction of the caller's open (app/integrations/answers.py), so its log
line and the breaker's change are written right after it, in a short transaction of their own: kept whatever
becomes of the caller's transaction (typically rolled back *because* the department failed — the breaker must
still count the failure), and written exactly once however often the caller's unit of work is re-run.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.integrations.models import Interface, InterfaceCallLog


def apply_breaker(session: Session, code: str, success: bool, now: datetime) -> None:
    """Closed → open after ``breaker_threshold`` consecutive failures; a failed half-open trial re-opens it;
    any success closes it. Writes only on changes, so the healthy path takes no row lock."""
    iface = session.execute(select(Interface).where(Interface.code == code)).scalar_one_or_none()
    if iface is None:
        return
    if success:
        if iface.breaker_state != "closed" or iface.failure_count:
            iface.breaker_state, iface.failure_count, iface.opened_at = "closed", 0, None
        return
    iface.failure_count += 1
    if iface.breaker_state == "half_open" or iface.failure_count >= iface.breaker_threshold:
        iface.breaker_state, iface.opened_at = "open", now


def breaker_allows(iface: Interface, now: datetime) -> tuple[bool, bool]:
    """``(allowed, trial)``: an open breaker refuses until its cooldown has passed, then lets one trial
    call through (half-open)."""
    if iface.breaker_state == "closed":
        return True, False
    if iface.opened_at is not None and now < iface.opened_at + timedelta(seconds=iface.breaker_cooldown_s):
        return False, False
    return True, True


def record(engine: Any, log: InterfaceCallLog, *, breaker: bool | None) -> None:
    """Write the log line (and the breaker outcome: True success, False failure, None no change) and commit."""
    record_all(engine, [(log, breaker)])


def record_all(engine: Any, logs: list[tuple[InterfaceCallLog, bool | None]]) -> None:
    """Write the log lines of a batch of calls in one transaction (one INSERT) with their breaker outcomes
    (True success, False failure, None no change), in call order. Successes close the breakers in one UPDATE
    that matches only breakers not already closed, so the healthy path reads and locks no interface row."""
    if not logs:
        return
    with Session(bind=engine) as session:
        session.add_all([log for log, _ in logs])
        succeeded: set[str] = set()
        for log, breaker in logs:
            if breaker is False:
                if succeeded:  # a success before this failure resets the count first, as one by one would
                    _close(session, succeeded)
                    succeeded = set()
                apply_breaker(session, log.interface_code, False, log.at)
            elif breaker:
                succeeded.add(log.interface_code)
        if succeeded:
            _close(session, succeeded)
        session.commit()


def _close(session: Session, codes: set[str]) -> None:
    """Any success closes the breaker (the success path of ``apply_breaker``) without reading the rows."""
    session.flush()
    session.execute(update(Interface).where(Interface.code.in_(sorted(codes)),
                                            (Interface.breaker_state != "closed") | (Interface.failure_count != 0))
                    .values(breaker_state="closed", failure_count=0, opened_at=None)
                    .execution_options(synchronize_session=False))
