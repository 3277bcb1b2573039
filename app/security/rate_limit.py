"""A rate limiter kept in the database, so every app process counts the same events (DESIGN §6: no counters in
process memory). Sliding windows: an action is allowed when fewer than ``limit`` events of its key happened in
the last ``window``; an allowed action is recorded. Keys name what is limited without personal data in clear
(``sms:phone:<blind index>``, ``sms:ip:<blind index>``).

``Backoff`` gives growing delays after failures (sign-in per account and address, 线下查询 per business number)
instead of a hard lockout an attacker could trigger against someone else.

Two simultaneous requests may both pass the last place of a window (each counts before the other commits);
the limits here are against abuse, where one extra event is harmless, unlike appointment capacity.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db import affected_rows, utcnow
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
            wait = (oldest + rule.window - now).total_seconds()
            refused = TooManyRequests(rule.message.format(wait=_wait_text(wait)))
            refused.retry_after = max(1, int(wait + 0.999))
            raise refused


def hit(session: Session, key: str, limits: tuple[Limit, ...], *, now: datetime | None = None) -> None:
    """Check ``key`` against ``limits`` and record one event if allowed."""
    now = now or utcnow()
    check(session, key, limits, now=now)
    session.add(RateEvent(key=key, at=now))


@dataclass(frozen=True)
class Backoff:
    """Growing delays after failures: ``free`` failures in ``window`` cost nothing, then each further attempt must
    wait ``first`` × 2^(failures − free), at most ``longest``, after the last failure. Nothing locks: waiting
    always lets one more attempt through, and a success clears the key (``clear``)."""
    free: int
    first: timedelta
    longest: timedelta
    window: timedelta
    message: str  # "{wait}" is replaced by the time to wait


def backoff_check(session: Session, key: str, rule: Backoff, *, now: datetime | None = None) -> None:
    """Raise ``TooManyRequests`` while ``key``'s delay after its last failure runs."""
    now = now or utcnow()
    count, last = session.execute(select(func.count(), func.max(RateEvent.at))
                                  .where(RateEvent.key == key, RateEvent.at > now - rule.window)).one()
    if count < rule.free or last is None:
        return
    delay = min(rule.longest, rule.first * 2 ** min(count - rule.free, 30))
    if last + delay > now:
        raise TooManyRequests(rule.message.format(wait=_wait_text((last + delay - now).total_seconds())))


def record_failure(session: Session, key: str, *, now: datetime | None = None) -> None:
    session.add(RateEvent(key=key, at=now or utcnow()))


def clear(session: Session, key_prefix: str) -> None:
    """Forget the failures of a key (or of every key starting with ``key_prefix``): a success, an unlock."""
    session.execute(delete(RateEvent).where(RateEvent.key.startswith(key_prefix, autoescape=True)))


def prune(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Drop events no window looks at any more (run from a job)."""
    result = session.execute(delete(RateEvent).where(RateEvent.at < utcnow() - older_than))
    return affected_rows(result)
