"""The clerk inbox: READY user tasks mirrored into the indexed ``task`` table after every engine step, and
the queries the workbench and the REST API page through (tabs, filters, counts, SLA countdown).

Every query is one indexed SELECT on ``task`` (joined to ``reg_case`` for the business number and type);
the session's tenant scope keeps a district clerk inside their office. ``bench/inbox.py`` measures it at
10k and 1M cases.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, defer, load_only

from app.casefile.models import Case, Party, Task
from app.clock import beijing_date, beijing_today
from app.engine.runtime import ReadyTask
from app.engine.workdays import SHIPPED, WorkCalendar, calendar_for
from app.errors import PermissionDenied, ValidationFailed
from app.identifiers import InvalidIdentifier, check_id_card
from app.identity.actor import Actor
from app.security.fields import blind_index
from app.vocabulary import TaskStatus

MINE, CLAIMABLE, DONE, ALL = "mine", "claimable", "done", "all"
TABS = {MINE: "待办", CLAIMABLE: "待领", DONE: "已办", ALL: "全部"}
DUE_SOON_DAYS = 2  # working days: "due soon" = due within this many working days from today
DUE_FILTERS = {"soon": "即将到期", "overdue": "已超期"}
# Tab counts stop at this number ("1000+"): a clerk's 已办 history grows without bound, and counting half a
# million rows on every page view would cost more than the page itself (bench/inbox.py).
COUNT_CAP = 1000


def sync_tasks(session: Session, case: Case, ready: list[ReadyTask], today: date | None = None,
               open_rows: list[Task] | None = None) -> list[Task]:
    """Open a row for each newly READY task; cancel open rows whose task is no longer READY. ``open_rows``: the
    case's open rows when the caller knows them (not read again)."""
    today = today or beijing_today()
    calendar = calendar_for(session)
    if open_rows is None:
        open_rows = list(session.execute(select(Task).where(Task.case_id == case.id,
                                                            Task.status == TaskStatus.OPEN)).scalars())
    by_spiff_id = {t.spiff_task_id: t for t in open_rows}
    ready_ids = {r.spiff_task_id for r in ready}
    for row in open_rows:
        if row.spiff_task_id not in ready_ids:
            row.status = TaskStatus.CANCELLED
    created = []
    for r in ready:
        if r.spiff_task_id in by_spiff_id:
            continue
        due_days = int(r.properties["dueDays"]) if r.properties.get("dueDays") else None
        task = Task(case_id=case.id, tenant_id=case.tenant_id, spiff_task_id=r.spiff_task_id,
                    task_name=r.task_name, title=r.title, stage=r.properties.get("stage", ""), role=r.role,
                    form_key=r.properties.get("formKey", ""), status=TaskStatus.OPEN,
                    due_at=calendar.add_working_days(today, due_days) if due_days else None,
                    due_from=today if due_days else None, due_days=due_days)
        session.add(task)
        created.append(task)
    return created


def inbox_query(actor: Actor, *, business_no: str | None = None, stage: str | None = None,
                mine: bool = False, status: TaskStatus = TaskStatus.OPEN) -> Select[Task, Case]:
    """The original API filter set (kept for ``GET /api/v1/tasks`` callers)."""
    stmt = select(Task, Case).join(Case, Case.id == Task.case_id).where(Task.status == status)
    if mine:
        stmt = stmt.where(Task.assignee_id == actor.user_id)
    elif not actor.city_level:
        stmt = stmt.where(Task.role.in_(sorted(actor.roles)))
    if business_no:
        stmt = stmt.where(Case.business_no == business_no)
    if stage:
        stmt = stmt.where(Task.stage == stage)
    return stmt.order_by(Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id)


def task_list(session: Session, actor: Actor, *, business_no: str | None = None, stage: str | None = None,
              mine: bool = False, status: TaskStatus = TaskStatus.OPEN, page: int = 1,
              per_page: int = 20) -> list[tuple[Task, Case]]:
    """One page of ``inbox_query``: the tasks with their cases."""
    stmt = inbox_query(actor, business_no=business_no, stage=stage, mine=mine, status=status)
    return list(session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all())


def open_tasks_of(session: Session, case_id: str) -> list[Task]:
    """The case's open tasks, oldest first (parallel branches may hold several)."""
    return list(session.execute(select(Task).where(Task.case_id == case_id, Task.status == TaskStatus.OPEN)
                                .order_by(Task.created_at)).scalars())


def completed_task_names(session: Session, case_id: str) -> set[str]:
    """The diagram element ids of the case's completed tasks (the steps the diagram marks done)."""
    return set(session.execute(select(Task.task_name).where(Task.case_id == case_id,
                                                            Task.status == TaskStatus.COMPLETED)).scalars())


@dataclass(frozen=True)
class InboxFilter:
    tab: str = CLAIMABLE
    business_type: str | None = None
    stage: str | None = None
    district: str | None = None  # tenant code; only city-level roles may choose
    due: str | None = None  # soon | overdue
    business_no: str | None = None
    applicant_id_number: str | None = None  # exact match through the blind index (never from a URL)
    applicant: str | None = None  # the same search as a blind-index token (``applicant_token``), for URLs
    page: int = 1
    per_page: int = 50


@dataclass
class InboxRow:
    task: Task
    case: Case
    days_left: int | None  # working days until due (negative: overdue by that many)
    provisional: bool = False  # the due date counts days of a year whose holiday plan is not entered (暂定)

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0


@dataclass
class InboxPage:
    filter: InboxFilter
    rows: list[InboxRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    today: date | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_CAP) // self.filter.per_page))

    @property
    def has_next(self) -> bool:
        return self.filter.page < self.pages or (self.total > COUNT_CAP and len(self.rows) == self.filter.per_page)


def can_see_all(actor: Actor) -> bool:
    """全部: team leaders (task:assign) see every task of their office, city-level staff every office."""
    return actor.has("task:assign") or (actor.city_level and actor.has("task:read"))


def _tab_condition(actor: Actor, tab: str) -> list[Any]:
    if tab == MINE:
        return [Task.status == TaskStatus.OPEN, Task.assignee_id == actor.user_id]
    if tab == CLAIMABLE:
        return [Task.status == TaskStatus.OPEN, Task.assignee_id.is_(None), Task.role.in_(sorted(actor.roles))]
    if tab == DONE:
        return [Task.status == TaskStatus.COMPLETED, Task.completed_by == actor.user_id]
    if tab == ALL:
        if not can_see_all(actor):
            raise PermissionDenied("只有科室负责人可以查看全部任务", code="forbidden")
        return [Task.status == TaskStatus.OPEN]
    raise ValidationFailed("未知的任务分类", field="tab")


def _applicant_bidx(id_number: str) -> str:
    try:
        return blind_index(check_id_card(id_number.strip()))
    except InvalidIdentifier as exc:
        raise ValidationFailed(exc.message, field="applicant_id_number") from exc


def applicant_token(id_number: str) -> str:
    """A token that stands for an applicant's ID number in a URL (a page's filter links, pagination): the
    keyed blind index, so the full number never lands in address bars, browser history or access logs."""
    return _applicant_bidx(id_number)


_TOKEN = re.compile(r"[0-9a-f]{32}")


def _needs_case(flt: InboxFilter) -> bool:
    return bool(flt.business_type or flt.business_no)


def _filtered(actor: Actor, flt: InboxFilter, today: date, base: Select[Any],
              calendar: WorkCalendar = SHIPPED) -> Select[Any]:
    stmt = base.where(*_tab_condition(actor, flt.tab))
    scope = actor.tenant_scope
    if scope is not None:  # the session scopes too; explicit here so every index starts with the office
        stmt = stmt.where(Task.tenant_id.in_(sorted(scope)))
    if flt.business_type:
        stmt = stmt.where(Case.business_type_code == flt.business_type)
    if flt.stage:
        stmt = stmt.where(Task.stage == flt.stage)
    if flt.district:
        if not actor.city_level:
            raise PermissionDenied("只有市级人员可以按辖区筛选", code="forbidden")
        stmt = stmt.where(Task.tenant_id == flt.district)
    if flt.due == "overdue":
        stmt = stmt.where(Task.due_at < today)
    elif flt.due == "soon":
        stmt = stmt.where(Task.due_at >= today, Task.due_at <= calendar.add_working_days(today, DUE_SOON_DAYS))
    elif flt.due:
        raise ValidationFailed("到期筛选应为“即将到期”或“已超期”", field="due")
    if flt.business_no:
        stmt = stmt.where(Case.business_no == flt.business_no.strip())
    if flt.applicant_id_number:
        bidx = _applicant_bidx(flt.applicant_id_number)
        stmt = stmt.where(Task.case_id.in_(select(Party.case_id).where(Party.id_number_bidx == bidx)))
    elif flt.applicant:
        if not _TOKEN.fullmatch(flt.applicant):
            raise ValidationFailed("申请人筛选条件无效，请重新输入身份证号", field="applicant_id_number")
        stmt = stmt.where(Task.case_id.in_(select(Party.case_id).where(Party.id_number_bidx == flt.applicant)))
    return stmt


def _provisional(calendar: WorkCalendar, task: Task) -> bool:
    return task.due_at is not None and calendar.provisional_between(task.due_from or beijing_date(task.created_at),
                                                                    task.due_at)


def provisional_due(session: Session, tasks: list[Task]) -> set[str]:
    """Ids of the tasks whose due date is 暂定 (counted through a year whose holiday plan is not entered)."""
    calendar = calendar_for(session)
    return {t.id for t in tasks if _provisional(calendar, t)}


def _row(calendar: WorkCalendar, today: date, task: Task, case: Case) -> InboxRow:
    if task.due_at is None:
        return InboxRow(task=task, case=case, days_left=None)
    return InboxRow(task=task, case=case, days_left=calendar.working_days_between(today, task.due_at),
                    provisional=_provisional(calendar, task))


def _capped(actor: Actor, flt: InboxFilter, today: date, calendar: WorkCalendar) -> Any:
    """Rows of the tab under the filters, counted up to COUNT_CAP + 1, as a scalar subquery."""
    base = select(Task.id).select_from(Task)
    if _needs_case(flt):
        base = base.join(Case, Case.id == Task.case_id)
    capped = _filtered(actor, flt, today, base, calendar).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(capped).scalar_subquery()


def _counts(session: Session, actor: Actor, flt: InboxFilter, today: date, tabs: list[str]) -> dict[str, int]:
    """Every tab's count in one round trip."""
    calendar = calendar_for(session)
    row = session.execute(select(*(_capped(actor, replace(flt, tab=t), today, calendar) for t in tabs))).one()
    return {t: int(n) for t, n in zip(tabs, row, strict=True)}


# A list row needs a few columns of the case, not its encrypted form or JSON documents.
_LIST_COLUMNS = (load_only(Case.id, Case.tenant_id, Case.business_no, Case.business_type_code, Case.status,
                           Case.channel, Case.unit_code), defer(Task.result), defer(Task.opinion))


def page_query(actor: Actor, flt: InboxFilter, today: date,
               calendar: WorkCalendar = SHIPPED) -> Select[Task, Case]:
    """The rows of one inbox page. The task ids are paged first (an index range read), then only those
    rows are loaded with their cases: a deep page does not join the cases of every row it skips."""
    order = (Task.completed_at.desc(), Task.id) if flt.tab == DONE else (Task.due_at.asc().nulls_last(), Task.id)
    per_page = max(1, min(flt.per_page, 200))
    ids = select(Task.id).select_from(Task)
    if _needs_case(flt):
        ids = ids.join(Case, Case.id == Task.case_id)
    page_ids = _filtered(actor, flt, today, ids, calendar).order_by(*order).limit(per_page) \
        .offset((max(flt.page, 1) - 1) * per_page).scalar_subquery()
    return select(Task, Case).join(Case, Case.id == Task.case_id).options(*_LIST_COLUMNS) \
        .where(Task.id.in_(page_ids)).order_by(*order)


def inbox_page(session: Session, actor: Actor, flt: InboxFilter, *, today: date | None = None,
               with_counts: bool = True, counts_session: Session | None = None) -> InboxPage:
    """One page of the inbox for ``flt.tab`` plus, for the tab bar, the count of every tab the actor may
    open under the same filters. ``counts_session``: where the counts are read (a read replica, which may lag
    a moment; docs/scaling.md) — the rows always come from ``session``, so a task just claimed is listed."""
    actor.require("task:read")
    today = today or beijing_today()
    calendar = calendar_for(session)
    stmt = page_query(actor, flt, today, calendar)
    rows = session.execute(stmt).all()
    tabs = [MINE, CLAIMABLE, DONE] + ([ALL] if can_see_all(actor) else [])
    counts = _counts(counts_session or session, actor, flt, today, tabs if with_counts else [flt.tab])
    total = counts[flt.tab]
    if not with_counts:
        counts = {}
    return InboxPage(filter=flt, total=total, counts=counts, today=today,
                     rows=[_row(calendar, today, t, c) for t, c in rows])
