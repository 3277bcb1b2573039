"""Written notices of the acceptance decision (条例 17): 受理通知书, 不予受理告知书 (with the reasons) and
补正材料通知书 (everything to supplement, told once).

A notice is derived from the completed task that decided it (decision, reasons, items, completion time),
so it is rendered on request and always reads the same; nothing extra is stored. When the deciding task
completes, a timeline event announces the notice (the outbox pushes it to the applicant's channels); the
applicant downloads it through the API, the clerk from the case page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.access import definition_of
from app.casefile.models import Case, Task
from app.cases.documents import Document, render_document
from app.clock import CHINA
from app.engine.workdays import calendar_for
from app.errors import NotFound
from app.identity.actor import Actor
from app.registry.certificate_content import office_name
from app.vocabulary import EventKind, Stage, TaskStatus

KINDS = {"acceptance": "受理通知书", "rejection": "不予受理告知书", "correction": "补正材料通知书"}
# (stage, decision) of the deciding task → notice kind
_DECIDING: dict[tuple[str, str], str] = {(Stage.ACCEPT, "approve"): "acceptance", (Stage.ACCEPT, "reject"): "rejection",
             (Stage.ACCEPT, "correct"): "correction", (Stage.REVIEW, "correct"): "correction"}


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    task: Task


def notice_kind(task: Task) -> str | None:
    return _DECIDING.get((task.stage, task.decision or ""))


def notices_of_case(session: Session, case: Case) -> list[Notice]:
    """The latest notice of each kind the case has had."""
    tasks = session.execute(select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.COMPLETED)
                            .order_by(Task.completed_at)).scalars()
    latest: dict[str, Task] = {}
    for task in tasks:
        kind = notice_kind(task)
        if kind:
            latest[kind] = task
    return [Notice(kind, KINDS[kind], task) for kind, task in latest.items()]


def announce(session: Session, case: Case, task: Task, actor: Actor) -> None:
    """Called when a task completes: if its decision is one the applicant must be told in writing, say so
    on the timeline (and thereby in the outbox)."""
    kind = notice_kind(task)
    if kind:
        progress.add_event(session, case, kind=EventKind.NOTICE, actor=actor, stage=task.stage, decision=task.decision,
                           actor_role=task.role, message=f"已出具《{KINDS[kind]}》，可在申请详情中查看和下载")


def _local(task: Task) -> date:
    assert task.completed_at is not None
    return task.completed_at.astimezone(CHINA).date()


def cn_date(d: date) -> str:
    """2026年11月29日"""
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def _body(session: Session, case: Case, notice: Notice) -> list[str]:
    definition = definition_of(session, case)
    names = "、".join(p.name or "" for p in case.parties) or "申请人"
    decided = _local(notice.task)
    submitted = cn_date(case.submitted_at.astimezone(CHINA).date()) if case.submitted_at else "—"
    head = (f"{names}：", f"你（单位）于{submitted}"
            f"申请的{definition.name}（业务号 {case.business_no}，不动产单元号 {case.unit_code or '—'}，"
            f"坐落 {case.form_public.get('location') or '—'}），")
    result: dict[str, Any] = notice.task.result or {}
    if notice.kind == "acceptance":
        calendar = calendar_for(session)
        due_day = calendar.add_working_days(decided, int(definition.time_limit_days))
        due = cn_date(due_day)
        if calendar.provisional_between(decided, due_day):
            due += "（暂定：该年度节假日安排尚未公布，以公布后重新计算的期限为准）"
        return [*head[:1], head[1] + f"经查验，申请材料齐全、符合法定形式，本机构已于{cn_date(decided)}予以受理。",
                f"本机构将于{due}前办结（公告、补正等时间不计入办理时限）。",
                f"受理意见：{notice.task.opinion or '—'}"]
    if notice.kind == "rejection":
        reasons = [f"{i}. {r}" for i, r in enumerate(result.get("reject_reasons") or [], 1)]
        return [*head[:1], head[1] + "经查验，本机构决定不予受理，理由如下：", *reasons,
                f"意见：{notice.task.opinion or '—'}",
                "依据《不动产登记暂行条例》第十七条，特此书面告知。如不服本决定，可自收到本告知书之日起六十日内"
                "依法申请行政复议，或者六个月内依法提起行政诉讼。"]
    items = [f"{i}. {r}" for i, r in enumerate(result.get("correction_items") or case.correction_items or [], 1)]
    return [*head[:1], head[1] + "经查验，申请材料尚需补正。现一次性告知需补正的全部内容如下：", *items,
            f"意见：{notice.task.opinion or '—'}",
            "请补正后通过原申请渠道重新提交，本机构收到全部补正材料后重新受理；补正期间不计入办理时限。"]


def render_notice(session: Session, case: Case, kind: str, font_path: Any) -> bytes:
    """One A4 page: title, number line, body paragraphs, office and date."""
    notice = next((n for n in notices_of_case(session, case) if n.kind == kind), None)
    if notice is None:
        raise NotFound("该申请没有此类通知书", code="notice_not_found")
    return render_document(Document(title=notice.title, reference=f"业务号：{case.business_no}",
                                    paragraphs=_body(session, case, notice),
                                    issuer=office_name(session, case.tenant_id),
                                    date_text=cn_date(_local(notice.task))), font_path)
