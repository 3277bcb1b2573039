"""Beijing time, in one place: the platform stores UTC and shows and counts in Beijing time.

China has one zone and no daylight saving, so a fixed UTC+8 offset is exact. Every *date* the platform
reasons with — the year of a business number, "today" of an inbox's time limits, an expiry — is a Beijing
date: between 00:00 and 08:00 Beijing time the UTC date is still yesterday (found: a case submitted on
1 January before 08:00 got last year's business number; the portal showed UTC times).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def beijing_now() -> datetime:
    return datetime.now(UTC).astimezone(CHINA)


def beijing_today() -> date:
    return beijing_now().date()


def in_beijing(value: datetime | str) -> datetime:
    """An aware datetime or an ISO string (API dicts) in Beijing time; naive values are UTC as stored."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(CHINA)


def beijing_date(value: datetime | str) -> date:
    return in_beijing(value).date()


def local_time(value: datetime | str | None) -> str:
    """For the screen: 2026-03-01 14:05 (Beijing); “—” when there is no time."""
    return in_beijing(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def local_date(value: datetime | str | None) -> str:
    """For the screen: 2026-03-01 (the Beijing date); “—” when there is none."""
    return in_beijing(value).strftime("%Y-%m-%d") if value else "—"
