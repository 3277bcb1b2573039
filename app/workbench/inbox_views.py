"""Inbox (待办箱): tabs, filters, counts, SLA countdown; claim, batch claim, release, assign."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.casefile.access import get_task
from app.casefile.status import stage_codes, status_label
from app.cases import handling
from app.cases.inbox import (
    CLAIMABLE,
    COUNT_CAP,
    DUE_FILTERS,
    MINE,
    TABS,
    InboxFilter,
    applicant_token,
    can_see_all,
    inbox_page,
)
from app.catalog.service import business_type_names
from app.errors import DomainError, ValidationFailed
from app.identity import directory
from app.web import db_session, read_db_session
from app.workbench import bp
from app.workbench.common import back_to, clerk, flash_error, inbox_url, staff_required

PER_PAGE = 50


def _filter_from_args() -> InboxFilter:
    args = request.args
    tab = args.get("tab") or MINE
    if tab not in TABS:
        tab = MINE
    try:
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        page = 1
    return InboxFilter(tab=tab, business_type=args.get("business_type") or None, stage=args.get("stage") or None,
                       district=args.get("district") or None, due=args.get("due") or None,
                       business_no=(args.get("business_no") or "").strip() or None,
                       applicant=(args.get("applicant") or "").strip() or None,
                       page=page, per_page=PER_PAGE)


def _query_args(flt: InboxFilter, **changes: Any) -> dict[str, Any]:
    values = {"tab": flt.tab, "business_type": flt.business_type, "stage": flt.stage, "district": flt.district,
              "due": flt.due, "business_no": flt.business_no, "applicant": flt.applicant}
    values.update(changes)
    return {k: v for k, v in values.items() if v}


@bp.get("/")
@staff_required
def inbox() -> Any:
    actor, session = clerk(), db_session()
    flt = _filter_from_args()
    errors: dict[str, list[str]] = {}
    try:
        page = inbox_page(session, actor, flt, counts_session=read_db_session())
    except ValidationFailed as exc:
        errors = exc.errors or {exc.field or "_form": [exc.message]}
        flt = InboxFilter(tab=flt.tab, per_page=PER_PAGE)
        page = inbox_page(session, actor, flt, counts_session=read_db_session())
    names = directory.usernames(session, (r.task.assignee_id for r in page.rows))
    types = business_type_names(session)
    districts = directory.districts(session) if actor.city_level else []
    tabs = [(code, TABS[code]) for code in page.counts]
    return render_template("workbench/inbox.html", page=page, flt=flt, tabs=tabs, names=names, types=types,
                           stages=stage_codes(), districts=districts, due_filters=DUE_FILTERS,
                           errors=errors, status_label=status_label, query_args=_query_args,
                           claimable_tab=flt.tab == CLAIMABLE, can_assign=can_see_all(actor),
                           request_path=request.full_path.rstrip("?"),
                           cap_count=lambda n: f"{COUNT_CAP}+" if n > COUNT_CAP else str(n))


@bp.post("/")
@staff_required
def inbox_search() -> Any:
    """The filter form is posted, not sent as a query string: an applicant's ID number becomes a blind-index
    token before it reaches a URL (address bar, history, proxy and access logs never see the number)."""
    form = request.form
    tab = form.get("tab", MINE)
    flt = InboxFilter(tab=tab if tab in TABS else MINE,
                      business_type=form.get("business_type") or None, stage=form.get("stage") or None,
                      district=form.get("district") or None, due=form.get("due") or None,
                      business_no=(form.get("business_no") or "").strip() or None)
    id_number = (form.get("applicant_id_number") or "").strip()
    if id_number:
        try:
            flt = replace(flt, applicant=applicant_token(id_number))
        except ValidationFailed as exc:
            flash(exc.message, "error")
    elif form.get("applicant"):
        flt = replace(flt, applicant=form["applicant"])
    return redirect(url_for("workbench.inbox", **_query_args(flt)))


@bp.post("/tasks/claim")
@staff_required
def claim_many() -> Any:
    actor, session = clerk(), db_session()
    ids = list(dict.fromkeys(request.form.getlist("task_ids")))
    if not ids:
        flash("请先勾选要领取的任务", "error")
        return back_to(inbox_url())
    tasks = []
    for task_id in ids:
        try:
            tasks.append(get_task(session, actor, task_id))
        except DomainError as exc:
            flash_error(exc)
    claimed, failed = handling.claim_tasks(session, actor, tasks)
    if claimed:
        flash(f"已领取 {len(claimed)} 项任务", "success")
    for message in dict.fromkeys(failed.values()):
        flash(f"{sum(1 for m in failed.values() if m == message)} 项未能领取：{message}", "error")
    return back_to(inbox_url())


@bp.post("/tasks/<task_id>/claim")
@staff_required
def claim(task_id: str) -> Any:
    actor, session = clerk(), db_session()
    task = get_task(session, actor, task_id)
    try:
        handling.claim_task(session, actor, task)
    except DomainError as exc:
        flash_error(exc)
        return back_to(inbox_url())
    flash(f"已领取：{task.title}", "success")
    return back_to(url_for("workbench.case_page", case_id=task.case_id))


@bp.post("/tasks/<task_id>/release")
@staff_required
def release(task_id: str) -> Any:
    actor, session = clerk(), db_session()
    task = get_task(session, actor, task_id)
    try:
        handling.release_task(session, actor, task)
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(f"已退回待领：{task.title}", "success")
    return back_to(inbox_url())


@bp.post("/tasks/<task_id>/assign")
@staff_required
def assign(task_id: str) -> Any:
    actor, session = clerk(), db_session()
    task = get_task(session, actor, task_id)
    try:
        handling.assign_task(session, actor, task, request.form.get("assignee_id") or "")
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(f"已指派：{task.title}", "success")
    return back_to(url_for("workbench.case_page", case_id=task.case_id))
