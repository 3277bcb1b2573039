"""Chinese working-day arithmetic for statutory time limits (条例 20, 细则 17, 民法典 201).

Built on ``holidays.China`` (statutory holidays and 调休 make-up days) plus a shipped override table,
because the package is silently wrong for years whose holiday plan it does not yet know: it returns the
base holidays without any 调休. Past ``last_year_with_adjustments`` we refuse to compute a deadline.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import holidays
import yaml

from app.errors import DefinitionError, DomainError

OVERRIDES_YAML = Path(__file__).resolve().parents[2] / "dictionaries" / "workday_overrides.yaml"

class CalendarUnknown(DomainError):
    """The holiday plan for the year is not published or not loaded; the registry, not the user, must act."""

    status = 503
    code = "calendar_unknown"

    def __init__(self, year: int) -> None:
        super().__init__(f"尚未发布 {year} 年节假日安排，暂时无法计算该年度的工作日和办理期限，"
                         "请联系管理员更新节假日配置")
        self.year = year


@cache
def _overrides() -> tuple[int, dict[int, tuple[frozenset[date], frozenset[date]]]]:
    data: Any = yaml.safe_load(OVERRIDES_YAML.read_text(encoding="utf-8")) or {}
    file = OVERRIDES_YAML.name

    def fail(reason: str) -> DefinitionError:
        return DefinitionError(reason, file=file)

    last = data.pop("last_year_with_adjustments", None) if isinstance(data, dict) else None
    if not isinstance(last, int):
        raise fail("缺少整数 last_year_with_adjustments")
    years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
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
        years[year] = (days["holidays"], days["workdays"])
    return last, years


@cache
def _year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(days off on weekdays or otherwise, make-up working days) for one year, overrides applied."""
    last, overrides = _overrides()
    if year > last:
        raise CalendarUnknown(year)
    cal = holidays.China(years=year)
    off = {d for d in cal if d.year == year}
    work = {d for d in cal.weekend_workdays if d.year == year}
    extra_off, extra_work = overrides.get(year, (frozenset(), frozenset()))
    return frozenset((off | extra_off) - extra_work), frozenset((work | extra_work) - extra_off)


def is_working_day(d: date) -> bool:
    off, work = _year(d.year)
    if d in work:
        return True
    return d.weekday() < 5 and d not in off


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start``; ``start`` itself never counts (民法典 201)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    d = start
    while n > 0:  # ends: every known year has working days, and unknown years raise CalendarUnknown
        d += timedelta(days=1)
        if is_working_day(d):
            n -= 1
    return d


def working_days_between(a: date, b: date) -> int:
    """Working days in (a, b], so ``working_days_between(a, add_working_days(a, n)) == n``; negative if b < a."""
    if b < a:
        return -working_days_between(b, a)
    return sum(1 for i in range(1, (b - a).days + 1) if is_working_day(a + timedelta(days=i)))
