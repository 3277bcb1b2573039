"""Call logs and circuit-breaker changes that outlive the business transaction.

An adapter call happens inside a request's (or job's) single transaction. If that transaction rolls back —
typically *because* the department failed — the log line and the breaker's failure count must still be
kept, or the breaker would never open. So both are written in the caller's session (committed with it on
success) and remembered in ``session.info``; after a rollback they are replayed in a short transaction of
their own. Replaying after the rollback, not writing beside it, matters on SQLite, where a second writer
would wait for the first one's lock.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.integrations.models import Interface, InterfaceCallLog

_PENDING = "integration_call_logs"


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


def record(session: Session, log: InterfaceCallLog, *, breaker: bool | None) -> None:
    """Add the log line (and the breaker outcome: True success, False failure, None no change)."""
    session.add(log)
    if breaker is not None:
        apply_breaker(session, log.interface_code, breaker, log.at)
    fields = {c: getattr(log, c) for c in ("id", "interface_code", "operation", "actor_id", "case_id",
                                          "business_no", "request_summary", "outcome", "http_status",
                                          "attempts", "latency_ms", "error", "at")}
    session.info.setdefault(_PENDING, []).append((fields, breaker))


@event.listens_for(Session, "after_commit")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _replay(session: Session) -> None:
    pending: list[tuple[dict[str, Any], bool | None]] = session.info.pop(_PENDING, None) or []
    if not pending:
        return
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with Session(bind=engine) as fresh:
        for fields, breaker in pending:
            fresh.add(InterfaceCallLog(**fields))
            if breaker is not None:
                apply_breaker(fresh, fields["interface_code"], breaker, fields["at"])
        fresh.commit()
