from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from app.casefile.access import get_task, get_task_with_case
from app.casefile.models import Case, Task
from app.casefile.status import status_label
from app.cases import handling
from app.cases.inbox import TABS, InboxFilter, applicant_token, inbox_page, task_list
from app.cases.summary import show_case
from app.identity.actor import Actor
from app.vocabulary import TaskStatus
from app.web import current_actor, db_session, read_db_session

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="待办任务")


class InboxArgs(Schema):
    @pre_load
    def _no_id_number_in_a_url(self, data: Any, **kwargs: Any) -> Any:
        """The former ``applicant_id_number`` query parameter is refused, not ignored: a client still
        sending it must learn that its filter did not apply (and that the number is in its logs)."""
        if not self.id_number_in_body and "applicant_id_number" in data:
            raise ValidationError("身份证号不能放在网址中，请用 POST /api/v1/tasks/search 按身份证号查找",
                                  "applicant_id_number")
        return data

    id_number_in_body = False
    tab = fields.String(load_default=None, validate=validate.OneOf(list(TABS)))
    business_type = fields.String(load_default=None)
    district = fields.String(load_default=None)
    due = fields.String(load_default=None, validate=validate.OneOf(["soon", "overdue"]))
    applicant = fields.String(load_default=None, metadata={
        "description": "申请人筛选令牌（由 POST /api/v1/tasks/search 的结果返回），身份证号不出现在网址中"})
    business_no = fields.String(load_default=None)
    stage = fields.String(load_default=None)
    mine = fields.Boolean(load_default=False)
    status = fields.String(load_default=TaskStatus.OPEN,
                           validate=validate.OneOf([TaskStatus.OPEN, TaskStatus.COMPLETED]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class InboxSearch(InboxArgs):
    id_number_in_body = True
    tab = fields.String(required=True, validate=validate.OneOf(list(TABS)))
    applicant_id_number = fields.String(load_default=None, validate=validate.Length(max=32))


class AssignTask(Schema):
    assignee_id = fields.String(required=True, validate=validate.Length(min=1, max=32))


class BatchClaim(Schema):
    task_ids = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=200))


class CompleteTask(Schema):
    decision = fields.String(required=True, validate=validate.Length(min=1, max=16))
    opinion = fields.String(required=True)
    data = fields.Dict(load_default=dict)
    confirm_record = fields.Boolean(load_default=False, metadata={
        "description": "登簿：已核对登簿内容（登簿预览），确认登簿（decision=approve）时须为 true"})


def _task_json(task: Task, case: Case) -> dict[str, Any]:
    return {"id": task.id, "case_id": case.id, "business_no": case.business_no,
            "business_type": case.business_type_code, "title": task.title, "stage": task.stage,
            "role": task.role, "form_key": task.form_key, "status": task.status,
            "assignee_id": task.assignee_id, "tenant_id": task.tenant_id,
            "due_at": task.due_at.isoformat() if task.due_at else None,
            "created_at": task.created_at.isoformat(), "decision": task.decision,
            "case_status": case.status, "case_status_label": status_label(case.status)}


@blp.get("")
@blp.arguments(InboxArgs, location="query")
def inbox(args: dict[str, Any]) -> dict[str, Any]:
    """待办箱。tab=mine（待办）/claimable（待领）/done（已办）/all（全部，负责人）时按分类分页并返回各分类计数，
    可按业务类型、环节、辖区（市级）、到期（soon/overdue）、业务号、申请人令牌筛选（按身份证号查找用
    POST /api/v1/tasks/search）；不带 tab 时保持原有筛选（业务号、环节、是否本人领取）"""
    actor = current_actor()
    actor.require("task:read")
    if args["tab"]:
        return _inbox_page(actor, args)
    rows = task_list(db_session(), actor, business_no=args["business_no"], stage=args["stage"], mine=args["mine"],
                     status=TaskStatus(args["status"]), page=args["page"], per_page=args["per_page"])
    return {"items": [_task_json(t, c) for t, c in rows], "page": args["page"], "per_page": args["per_page"]}


@blp.post("/search")
@blp.arguments(InboxSearch)
def search(args: dict[str, Any]) -> dict[str, Any]:
    """按申请人身份证号（精确匹配）等条件查找待办：身份证号放在请求体中，不进网址和访问日志；
    结果中的 applicant 令牌可用于 GET /api/v1/tasks 翻页"""
    actor = current_actor()
    actor.require("task:read")
    if args["applicant_id_number"]:
        args = {**args, "applicant": applicant_token(args["applicant_id_number"])}
    return {**_inbox_page(actor, args), "applicant": args["applicant"]}


def _inbox_page(actor: Actor, args: dict[str, Any]) -> dict[str, Any]:
    flt = InboxFilter(tab=args["tab"], business_type=args["business_type"], stage=args["stage"],
                      district=args["district"], due=args["due"], business_no=args["business_no"],
                      applicant=args["applicant"], page=args["page"], per_page=args["per_page"])
    page = inbox_page(db_session(), actor, flt, counts_session=read_db_session())
    return {"items": [{**_task_json(r.task, r.case), "days_left": r.days_left, "overdue": r.overdue,
                       "due_provisional": r.provisional} for r in page.rows],
            "page": args["page"], "per_page": args["per_page"], "total": page.total, "counts": page.counts}


@blp.get("/<task_id>")
def show(task_id: str) -> dict[str, Any]:
    """任务详情（含案件信息）"""
    actor = current_actor()
    actor.require("task:read")
    task, case = get_task_with_case(db_session(), actor, task_id)
    return {**_task_json(task, case), "case": show_case(db_session(), actor, case)}  # stage permissions apply


@blp.post("/<task_id>/claim")
def claim(task_id: str) -> dict[str, Any]:
    """领取任务"""
    actor = current_actor()
    task = handling.claim_task(db_session(), actor, get_task(db_session(), actor, task_id))
    return _task_json(task, db_session().get_one(Case, task.case_id))


@blp.post("/<task_id>/release")
def release(task_id: str) -> dict[str, Any]:
    """退回待领（本人领取的任务；负责人可退回任何人的）"""
    actor = current_actor()
    task = handling.release_task(db_session(), actor, get_task(db_session(), actor, task_id))
    return _task_json(task, db_session().get_one(Case, task.case_id))


@blp.post("/<task_id>/assign")
@blp.arguments(AssignTask)
def assign(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """指派/转办（科室负责人）：交给本辖区具备该环节角色的人员"""
    actor = current_actor()
    task = handling.assign_task(db_session(), actor, get_task(db_session(), actor, task_id), body["assignee_id"])
    return _task_json(task, db_session().get_one(Case, task.case_id))


@blp.post("/claim")
@blp.arguments(BatchClaim)
def claim_many(body: dict[str, Any]) -> dict[str, Any]:
    """批量领取：返回领取成功的任务与未能领取的原因"""
    actor = current_actor()
    tasks = [get_task(db_session(), actor, task_id) for task_id in dict.fromkeys(body["task_ids"])]
    claimed, failed = handling.claim_tasks(db_session(), actor, tasks)
    return {"claimed": [t.id for t in claimed], "failed": failed}


@blp.post("/<task_id>/complete")
@blp.arguments(CompleteTask)
def complete(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """办理任务：decision（approve / reject / correct）与 opinion 必填；确认登簿须带 confirm_record: true"""
    actor = current_actor()
    task = handling.task_to_complete(db_session(), actor, task_id)
    case = handling.complete_task(db_session(), actor, task, decision=body["decision"], opinion=body["opinion"],
                                  data=body["data"], confirmed_record=body["confirm_record"],
                                  storage=current_app.extensions["storage"])
    return {"task": _task_json(task, case), "case_status": case.status, "case_status_label": status_label(case.status)}
