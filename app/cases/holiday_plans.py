"""Entering a year's official holiday plan (国务院办公厅 放假安排) and what follows from it: the year stops being
provisional (暂定), and every open task whose deadline reaches into it is recounted on the entered calendar.

Recounting moves due dates only; it writes no case event and no outbox message, so nobody is told of an
overdue or changed deadline that never was — the change is in the audit log (who entered what, from which
notice, and each task it moved).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.casefile.models import Task
from app.clock import beijing_date
from app.db import utcnow
from app.engine.models import WorkdaySchedule
from app.engine.workdays import WorkCalendar, calendar_for, forget_calendar, statutory_holidays
from app.errors import ValidationFailed
from app.identity.actor import Actor
from app.security import audit
from app.vocabulary import TaskStatus

FIRST_YEAR, LAST_YEAR = 2000, 2100
_RANGE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:[~～至到]|--)\s*(\d{4}-\d{1,2}-\d{1,2})$")
_SEPARATORS = re.compile(r"[\s,，、;；]+")
WARN_NEXT_YEAR_FROM_MONTH = 11  # the State Council usually publishes next year's plan in November


@dataclass(frozen=True)
class PlanEntry:
    year: int
    holidays: list[date]
    workdays: list[date]
    source: str


@dataclass(frozen=True)
class Recount:
    """What entering a plan changed: open tasks looked at, and those whose due date moved."""

    examined: int
    moved: list[tuple[str, date, date]]  # task id, old due date, new due date


def _parse_day(text: str) -> date:
    y, m, d = (int(p) for p in text.split("-"))
    return date(y, m, d)


def parse_dates(text: str, year: int, field: str) -> list[date]:
    """Dates of ``year`` from free text: one per line or separated by commas, ranges as
    ``2027-02-05~2027-02-11`` (also 至/到). Refused with the offending piece named."""
    days: set[date] = set()
    for line in (text or "").splitlines():
        line = line.strip()
        match = _RANGE.match(line)
        pieces = [line] if match else [p for p in _SEPARATORS.split(line) if p]
        for piece in pieces:
            try:
                if match:
                    first, last = _parse_day(match.group(1)), _parse_day(match.group(2))
                else:
                    first = last = _parse_day(piece)
            except ValueError:
                raise ValidationFailed(f"无法识别的日期：{piece}", field=field,
                                       errors={field: [f"无法识别的日期“{piece}”，请写成 {year}-02-05 或 "
                                                       f"{year}-02-05~{year}-02-11"]}) from None
            if first > last or first.year != year or last.year != year or (last - first).days > 31:
                raise ValidationFailed(f"日期不在 {year} 年内或区间有误：{piece}", field=field,
                                       errors={field: [f"“{piece}”应为 {year} 年内、不超过一个月的日期或区间"]})
            days.update(first + timedelta(days=i) for i in range((last - first).days + 1))
    return sorted(days)


def parse_entry(year_text: str, holidays_text: str, workdays_text: str, source: str) -> PlanEntry:
    """The admin form's fields checked into a plan entry; every problem is reported at once."""
    errors: dict[str, list[str]] = {}
    year = int(year_text) if (year_text or "").strip().isdigit() else 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed("请填写年份", errors={"year": [f"年份应在 {FIRST_YEAR}–{LAST_YEAR} 之间"]})
    parsed: dict[str, list[date]] = {}
    for field, text in (("holidays", holidays_text), ("workdays", workdays_text)):
        try:
            parsed[field] = parse_dates(text, year, field)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    source = (source or "").strip()
    if not source:
        errors["source"] = ["请填写依据文件（如 国务院办公厅关于某年部分节假日安排的通知）"]
    elif len(source) > 200:
        errors["source"] = ["依据文件不超过 200 字"]
    if not errors and not parsed["holidays"]:
        errors["holidays"] = ["请填写放假日期（含周末在内的整段假期）"]
    both = set(parsed.get("holidays", [])) & set(parsed.get("workdays", []))
    if both:
        errors["workdays"] = ["以下日期同时列为放假和上班：" + "、".join(d.isoformat() for d in sorted(both))]
    if errors:
        raise ValidationFailed("节假日安排有误", errors=errors)
    return PlanEntry(year, parsed["holidays"], parsed["workdays"], source)


def enter_plan(session: Session, actor: Actor, entry: PlanEntry) -> Recount:
    """Store (or replace) the year's plan, audited, and recount the open tasks whose deadline it touches."""
    actor.require("calendar:manage")
    before_calendar = calendar_for(session)
    row = session.get(WorkdaySchedule, entry.year)
    before = None if row is None else {"holidays": row.holidays, "workdays": row.workdays, "source": row.source}
    if row is None:
        row = WorkdaySchedule(year=entry.year)
        session.add(row)
    row.holidays = [d.isoformat() for d in entry.holidays]
    row.workdays = [d.isoformat() for d in entry.workdays]
    row.source, row.entered_by, row.entered_at = entry.source, actor.user_id, utcnow()
    session.flush()
    forget_calendar(session)
    audit.record(session, actor_id=actor.user_id, action="calendar.plan_entered", object_type="workday_schedule",
                 object_id=str(entry.year), before=before,
                 after={"holidays": row.holidays, "workdays": row.workdays, "source": row.source})
    recount = recount_open_tasks(session, before_calendar, calendar_for(session), entry.year)
    if recount.moved:
        audit.record(session, actor_id=actor.user_id, action="calendar.due_dates_recounted", object_type="task",
                     object_id=None, after={"year": entry.year, "moved": [
                         {"task": t, "before": old.isoformat(), "after": new.isoformat()}
                         for t, old, new in recount.moved]})
    return recount


def recount_open_tasks(session: Session, old: WorkCalendar, new: WorkCalendar, year: int) -> Recount:
    """Recount, on ``new``, the due date of every open task (of every office) counted through ``year``."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    tasks = session.execute(
        select(Task).where(Task.status == TaskStatus.OPEN, Task.due_at >= first,
                           or_(Task.due_from.is_(None), Task.due_from <= last))
        .execution_options(all_tenants=True)).scalars().all()
    moved = []
    for task in tasks:
        assert task.due_at is not None
        start = task.due_from or beijing_date(task.created_at)
        days = task.due_days if task.due_days is not None else old.working_days_between(start, task.due_at)
        due = new.add_working_days(start, days)
        if due != task.due_at:
            moved.append((task.id, task.due_at, due))
            task.due_at = due
        task.due_from, task.due_days = start, days
    return Recount(examined=len(tasks), moved=moved)


def provisional_years(session: Session, today: date) -> list[int]:
    """The years deadlines are being counted in whose plan is not confirmed: this year, every year an open
    task is due in, and next year once its plan is usually out (from November)."""
    calendar = calendar_for(session)
    latest = session.execute(select(Task.due_at).where(Task.status == TaskStatus.OPEN, Task.due_at.is_not(None))
                             .order_by(Task.due_at.desc()).limit(1)
                             .execution_options(all_tenants=True)).scalar()
    last = max(today.year + (today.month >= WARN_NEXT_YEAR_FROM_MONTH), latest.year if latest else today.year)
    return [y for y in range(today.year, last + 1) if calendar.is_provisional(y)]


@dataclass(frozen=True)
class YearView:
    year: int
    provisional: bool
    source: str | None
    holidays: list[date]
    workdays: list[date]
    statutory: dict[date, str]


def year_view(session: Session, year: int) -> YearView:
    """One year as the admin page shows it: the entered plan if any, beside the computed statutory days."""
    row = session.get(WorkdaySchedule, year)
    calendar = calendar_for(session)
    schedule = calendar.schedule(year)
    return YearView(year=year, provisional=schedule is None, source=row.source if row else None,
                    holidays=sorted(schedule.holidays) if schedule else [],
                    workdays=sorted(schedule.workdays) if schedule else [],
                    statutory=statutory_holidays(year))


def entered_plans(session: Session) -> list[WorkdaySchedule]:
    return list(session.execute(select(WorkdaySchedule).order_by(WorkdaySchedule.year.desc())).scalars())
