"""A rate limiter kept in the database, so every app process counts the same events (DESIGN §6: no counters in
process memory). Sliding windows: an action is allowed when fewer than ``limit`` events of its key happened in
the last ``window``; an allowed action is recorded. Keys name what is limited without personal data in clear
(``sms:phone:<blind index>``, ``sms:ip:<blind index>``).

Two simultaneous requests may both pass the last place of a window (each counts before the other commits);
the limits here are against abuse, where one extra event is harmless, unlike appointment capacity.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import TooManyRequests
from app.security.models import RateEvent


@dataclass(frozen=True)
class Limit:
    limit: int
    window: timedelta
    message: str  # Chinese, shown to the user; "{wait}" is replaced by the time to wait


def _wait_text(seconds: float) -> str:
    seconds = max(1, int(seconds + 0.999))
    return f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"


def check(session: Session, key: str, limits: tuple[Limit, ...], *, now: datetime | None = None) -> None:
    """Raise ``TooManyRequests`` if ``key`` is over any of ``limits``; nothing is recorded."""
    now = now or utcnow()
    for rule in limits:
        since = now - rule.window
        count, oldest = session.execute(select(func.count(), func.min(RateEvent.at))
                                        .where(RateEvent.key == key, RateEvent.at > since)).one()
        if count >= rule.limit:
            raise TooManyRequests(rule.message.format(wait=_wait_text((oldest + rule.window - now).total_seconds())))


def hit(session: Session, key: str, limits: tuple[Limit, ...], *, now: datetime | None = None) -> None:
    """Check ``key`` against ``limits`` and record one event if allowed."""
    now = now or utcnow()
    check(session, key, limits, now=now)
    session.add(RateEvent(key=key, at=now))


def prune(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Drop events no window looks at any more (run from a job)."""
    result = session.execute(delete(RateEvent).where(RateEvent.at < utcnow() - older_than))
    return int(result.rowcount or 0)
