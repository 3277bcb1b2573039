"""The standard texts of progress events: an event whose message is one of them stores no message
(``case_event.message`` NULL) and is shown with the text rendered from its kind, stage and decision and the
case's business number (issue 18: stored bytes per case). A message that says more (who signed, which notice,
what changed …) is stored as written.

The texts are part of the stored data: an event stored without its message is shown with the text here, so an
entry may be added but never reworded (a reworded text would change events already stored).
"""
from __future__ import annotations

from typing import Protocol

from app.vocabulary import EventKind, Stage

# kind → text; ``{business_no}`` is the case's.
FIXED: dict[str, str] = {
    EventKind.CREATED: "申请已创建（草稿）",
    EventKind.SUBMITTED: "申请已提交，业务号 {business_no}",
    EventKind.RESUBMITTED: "申请人已补正并重新提交",
    EventKind.TAX_PAID: "税务部门已推送完税信息",
    EventKind.TAX_OVERDUE: "完税信息超过期限未到，已转审核人员催办",
    EventKind.TAX_PUSH_QUEUED: "税务部门暂不可用，税务事项已排队，恢复后自动推送",
}
# A completed step: "<stage>：<decision>" for the standard decision forms (forms/decision_*.json).
STEP_DECISIONS: dict[tuple[str, str], str] = {
    (Stage.ACCEPT, "approve"): "予以受理", (Stage.ACCEPT, "reject"): "不予受理", (Stage.ACCEPT, "correct"): "需补正",
    (Stage.REVIEW, "approve"): "审核通过", (Stage.REVIEW, "reject"): "不予登记", (Stage.REVIEW, "correct"): "需补正",
    (Stage.RECORD, "approve"): "确认登簿", (Stage.RECORD, "reject"): "退回审核",
    (Stage.CERTIFY, "approve"): "缮证完成",
}


class _Event(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def stage(self) -> str | None: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...


def standard_message(kind: str, stage: str | None, decision: str | None, business_no: str | None) -> str | None:
    """The text an event of this kind, stage and decision is shown with when it stores none."""
    if kind == EventKind.STEP_COMPLETED:
        text = STEP_DECISIONS.get((stage or "", decision or ""))
        return f"{stage}：{text}" if text else None
    fixed = FIXED.get(kind)
    if fixed is None or ("{business_no}" in fixed and not business_no):
        return None
    return fixed.format(business_no=business_no)


def message_to_store(kind: str, stage: str | None, decision: str | None, business_no: str | None,
                     message: str) -> str | None:
    """None when ``message`` is the standard text (rendered again when shown), else the message."""
    return None if message == standard_message(kind, stage, decision, business_no) else message


def message_of(event: _Event, business_no: str | None) -> str:
    """The event's message as written: stored, or its standard text."""
    if event.message is not None:
        return event.message
    return standard_message(event.kind, event.stage, event.decision, business_no) or ""
