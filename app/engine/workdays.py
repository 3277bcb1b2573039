"""Chinese working-day arithmetic for statutory time limits (条例 20, 细则 17, 民法典 201).

A year's calendar is *confirmed* when its 调休 schedule is known: shipped in
``dictionaries/workday_overrides.yaml`` (the seed, on top of ``holidays.China``) or entered by an operator on
the admin calendar page (a ``WorkdaySchedule`` row, which wins over the seed). Any other year is
*provisional* (暂定): its statutory holidays (全国年节及纪念日放假办法, computed by ``holidays.China``,
weekend holidays made up on the next working days) are days off and no 调休 is guessed. A deadline therefore
always has an answer — no request fails because the State Council has not yet published next year's plan —
and screens mark a deadline that reaches into a provisional year 暂定 until the schedule is entered.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import holidays
import yaml
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from app.db import engine_cache
from app.engine.models import WorkdaySchedule
from app.errors import DefinitionError

OVERRIDES_YAML = Path(__file__).resolve().parents[2] / "dictionaries" / "workday_overrides.yaml"
PROVISIONAL_LABEL = "暂定"


@dataclass(frozen=True)
class YearSchedule:
    """One year's published plan: extra days off and make-up working days, both on top of the statutory
    holidays; a date listed as a working day wins over a holiday."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@cache
def _overrides() -> tuple[int, dict[int, YearSchedule]]:
    data: Any = yaml.safe_load(OVERRIDES_YAML.read_text(encoding="utf-8")) or {}
    file = OVERRIDES_YAML.name

    def fail(reason: str) -> DefinitionError:
        return DefinitionError(reason, file=file)

    last = data.pop("last_year_with_adjustments", None) if isinstance(data, dict) else None
    if not isinstance(last, int):
        raise fail("缺少整数 last_year_with_adjustments")
    years: dict[int, YearSchedule] = {}
    for year, entry in data.items():
        if not isinstance(year, int) or year > last:
            raise fail(f"年份 {year!r} 无效或晚于 last_year_with_adjustments")
        entry = entry or {}
        days = {kind: frozenset(entry.get(kind) or []) for kind in ("holidays", "workdays")}
        for kind, values in days.items():
            if any(not isinstance(d, date) or d.year != year for d in values):
                raise fail(f"{year} 年的 {kind} 应为该年内的日期（YYYY-MM-DD）")
        if days["holidays"] & days["workdays"]:
            raise fail(f"{year} 年有日期同时列为假日和工作日")
        years[year] = YearSchedule(days["holidays"], days["workdays"])
    return last, years


@cache
def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory days off of ``year`` as ``holidays.China`` computes them (names in Chinese), no 调休;
    empty outside the package's range (weekends still apply)."""
    try:
        cal = holidays.China(years=year, language="zh_CN")
    except (NotImplementedError, ValueError, KeyError):  # a year the lunar tables do not cover
        return {}
    return {d: str(name) for d, name in cal.items() if d.year == year}


@cache
def _package_workdays(year: int) -> frozenset[date]:
    try:
        return frozenset(d for d in holidays.China(years=year).weekend_workdays if d.year == year)
    except (NotImplementedError, ValueError, KeyError):
        return frozenset()


@cache
def _days(year: int, schedule: YearSchedule | None) -> tuple[frozenset[date], frozenset[date]]:
    """(days off, make-up working days) of ``year``; package 调休 only where the year is confirmed."""
    off = set(statutory_holidays(year))
    work = set(_package_workdays(year)) if schedule is not None else set()
    if schedule is not None:
        off |= schedule.holidays
        work |= schedule.workdays
        off -= schedule.workdays
        work -= schedule.holidays
    return frozenset(off), frozenset(work)


@dataclass(frozen=True)
class WorkCalendar:
    """The working-day calendar: the shipped seed plus the schedules operators entered (``entered``)."""

    entered: Mapping[int, YearSchedule] = field(default_factory=dict)

    def schedule(self, year: int) -> YearSchedule | None:
        """The confirmed plan of ``year``, or None when the year is provisional."""
        if year in self.entered:
            return self.entered[year]
        last, shipped = _overrides()
        return shipped.get(year, YearSchedule()) if year <= last else None

    def is_provisional(self, year: int) -> bool:
        return self.schedule(year) is None

    def provisional_between(self, a: date, b: date) -> bool:
        """Whether a deadline counted from ``a`` to ``b`` crosses a year whose schedule is not confirmed."""
        lo, hi = sorted((a, b))
        return any(self.is_provisional(y) for y in range(lo.year, hi.year + 1))

    def is_working_day(self, d: date) -> bool:
        off, work = _days(d.year, self.schedule(d.year))
        if d in work:
            return True
        return d.weekday() < 5 and d not in off

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start``; ``start`` itself never counts (民法典 201)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        d = start
        while n > 0:  # ends: every week has weekdays, and a provisional year only adds statutory holidays
            d += timedelta(days=1)
            if self.is_working_day(d):
                n -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b], so ``working_days_between(a, add_working_days(a, n)) == n``; negative if
        b < a."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(1 for i in range(1, (b - a).days + 1) if self.is_working_day(a + timedelta(days=i)))


SHIPPED = WorkCalendar()
"""The calendar without operator-entered schedules (code that has no database session at hand)."""


def is_working_day(d: date) -> bool:
    return SHIPPED.is_working_day(d)


def add_working_days(start: date, n: int) -> date:
    return SHIPPED.add_working_days(start, n)


def working_days_between(a: date, b: date) -> int:
    return SHIPPED.working_days_between(a, b)


CALENDAR_TTL_S = 60.0
"""How long a process keeps the entered schedules before reading them again (issue 18: not one SELECT per step).
The process that enters a plan drops its copy at once (``forget_calendar``); another process (gunicorn worker,
job runner) sees the entry within this many seconds. A deadline it counts in that minute uses the previous plan:
entering the same plan again on the admin page recounts the open tasks (``enter_plan``) and corrects it."""

_CHANGED = "work_calendar_changed"  # session.info: this transaction entered a schedule
_SHARED = "work_calendar"  # engine cache: (time.monotonic() when read, the calendar)


def calendar_for(session: Session) -> WorkCalendar:
    """The calendar with the schedules entered in the database: read once per unit of work (kept on the session,
    which the admin page refreshes after an entry) and shared by the process's sessions for ``CALENDAR_TTL_S``."""
    cached = session.info.get("work_calendar")
    if isinstance(cached, WorkCalendar):
        return cached
    shared = engine_cache(session)
    held = shared.get(_SHARED)
    now = time.monotonic()
    if held is not None and 0 <= now - held[0] < CALENDAR_TTL_S and not session.info.get(_CHANGED):
        calendar = held[1]
    else:
        rows = session.execute(select(WorkdaySchedule)).scalars().all()
        calendar = WorkCalendar({r.year: r.as_schedule() for r in rows})
        if not session.info.get(_CHANGED):  # an entry not committed yet is this transaction's alone
            shared[_SHARED] = (now, calendar)
    session.info["work_calendar"] = calendar
    return calendar


def forget_calendar(session: Session) -> None:
    """Drop the session's copy after a schedule was entered, so the same request computes with it; the process's
    copy is dropped too, and once more when its transaction ends."""
    session.info.pop("work_calendar", None)
    session.info[_CHANGED] = True
    engine_cache(session).pop(_SHARED, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_entered(session: Session, transaction: SessionTransaction) -> None:
    """Committed or not, the transaction that entered a schedule leaves no process copy behind."""
    if transaction.parent is None and session.info.pop(_CHANGED, None):
        engine_cache(session).pop(_SHARED, None)
