"""Progress events store no standard text (issue 18); the timeline and the outbox show the message as written."""
from __future__ import annotations

from types import SimpleNamespace

from app.casefile.event_messages import message_of, message_to_store, standard_message
from app.vocabulary import EventKind, Stage


def test_standard_texts_are_not_stored_and_read_back() -> None:
    cases = [(EventKind.CREATED, None, None, "申请已创建（草稿）"),
             (EventKind.SUBMITTED, None, None, "申请已提交，业务号 202633010620000002"),
             (EventKind.STEP_COMPLETED, Stage.ACCEPT, "approve", "受理：予以受理"),
             (EventKind.STEP_COMPLETED, Stage.CERTIFY, "approve", "缮证：缮证完成"),
             (EventKind.TAX_PAID, None, None, "税务部门已推送完税信息")]
    for kind, stage, decision, text in cases:
        assert message_to_store(kind, stage, decision, "202633010620000002", text) is None
        event = SimpleNamespace(kind=kind, stage=stage, decision=decision, message=None)
        assert message_of(event, "202633010620000002") == text


def test_other_texts_are_stored_as_written() -> None:
    for kind, stage, decision, text in [
            (EventKind.CONFIRMED, None, None, "转让方已签名确认申请"),
            (EventKind.CREATED, None, None, "窗口录入申请（草稿）"),
            (EventKind.STEP_COMPLETED, "初审", "approve", "初审：予以受理"),  # a step titled otherwise
            (EventKind.SUBMITTED, None, None, "申请已提交，业务号 1")]:
        assert message_to_store(kind, stage, decision, "2", text) == text
        assert message_of(SimpleNamespace(kind=kind, stage=stage, decision=decision, message=text), "2") == text
    assert standard_message(EventKind.SUBMITTED, None, None, None) is None
