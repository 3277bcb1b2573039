"""询问笔录: the questions a registration office asks the applicant (细则 第十五条), defined per business type
in data (business.yaml ``inquiry``: code, question, answer kind yes_no/choice/text, the answer a clean case
gives). Answered online before submission, kept encrypted with the case, shown to the 受理 clerk as Q&A
(answers other than the expected one flagged) and printable as a PDF record."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.casefile import consent
from app.casefile.access import definition_of
from app.casefile.models import Case
from app.cases.documents import Document, render_document
from app.catalog.definitions import BusinessTypeDef
from app.clock import CHINA
from app.db import utcnow
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.registry.certificate_content import office_name
from app.security import audit
from app.vocabulary import EDITABLE_STATUSES

YES_NO = ["是", "否"]
MAX_TEXT = 500


def questions(definition: BusinessTypeDef) -> list[dict[str, Any]]:
    return list(definition.inquiry or [])


def options_of(question: dict[str, Any]) -> list[str]:
    return YES_NO if question["kind"] == "yes_no" else list(question.get("options") or [])


def unanswered(definition: BusinessTypeDef, case: Case) -> list[str]:
    answers = case.inquiry_answers if case.inquiry_enc else {}
    return [q["code"] for q in questions(definition) if not str(answers.get(q["code"]) or "").strip()]


def answer(session: Session, actor: Actor, case: Case, given: dict[str, str]) -> dict[str, str]:
    """Validate every answer (all at once, each error beside its question) and keep them with the case."""
    if case.status not in EDITABLE_STATUSES:
        raise Conflict("申请已提交，不能修改询问笔录", code="case_not_editable")
    if not any(actor.id_number_bidx and p.id_number_bidx == actor.id_number_bidx for p in case.parties):
        raise PermissionDenied("您不是本申请的当事人，不能回答询问", code="not_a_party")
    consent.require_may_edit(definition_of(session, case), actor, case)  # a co-applicant reads what he signs
    errors: dict[str, list[str]] = {}
    answers: dict[str, str] = {}
    for q in questions(definition_of(session, case)):
        value = str(given.get(q["code"]) or "").strip()
        if not value:
            errors[q["code"]] = ["请回答此项"]
        elif q["kind"] == "text" and len(value) > MAX_TEXT:
            errors[q["code"]] = [f"请在 {MAX_TEXT} 字以内回答"]
        elif q["kind"] != "text" and value not in options_of(q):
            errors[q["code"]] = ["请从选项中选择"]
        answers[q["code"]] = value
    if errors:
        raise ValidationFailed("询问笔录尚未完成：请回答标出的事项", errors=errors)
    case.inquiry_answers, case.inquiry_answered_at = answers, utcnow()
    audit.record(session, actor_id=actor.user_id, action="case.inquiry", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"answered": sorted(answers)})
    return answers


def record(definition: BusinessTypeDef, case: Case) -> list[dict[str, Any]]:
    """Q&A lines for display: ``flag`` when the answer differs from what a clean case answers."""
    answers = case.inquiry_answers if case.inquiry_enc else {}
    return [{"code": q["code"], "q": q["q"], "kind": q["kind"], "options": options_of(q), "help": q.get("help"),
             "answer": answers.get(q["code"]), "flag": bool(q.get("expect") and answers.get(q["code"])
                                                           and answers.get(q["code"]) != q["expect"])}
            for q in questions(definition)]


def inquiry_pdf(session: Session, case: Case, font_path: Path) -> bytes:
    definition = definition_of(session, case)
    if not questions(definition):
        raise ValidationFailed("该业务没有询问笔录", field="inquiry")
    lines = record(definition, case)
    names = "、".join(f"{p.label} {p.name or ''}" for p in case.parties)
    answered = case.inquiry_answered_at.astimezone(CHINA) if case.inquiry_answered_at else None
    paragraphs = [f"业务类型：{definition.name}", f"不动产单元号：{case.unit_code or '—'}",
                  f"被询问人：{names}",
                  f"询问方式：网上申请在线询问　作答时间：{answered:%Y-%m-%d %H:%M}" if answered
                  else "询问方式：未在线作答（受理时询问）"]
    for i, line in enumerate(lines, 1):
        paragraphs.append(f"问{i}：{line['q']}")
        paragraphs.append(f"答：{line['answer'] or '（未作答）'}" + ("　【请受理人员核实】" if line["flag"] else ""))
    paragraphs.append("以上笔录经申请人确认无误，与其电子签名具有同等效力。")
    reference = f"业务号：{case.business_no or '（提交后生成）'}"
    return render_document(Document(title="不动产登记询问笔录", reference=reference,
                                    paragraphs=paragraphs, issuer=office_name(session, case.tenant_id)), font_path)
