"""Report templates of a business type (business.yaml ``reports``: 审批表, 审核意见表 …) rendered to PDF
from the case: a title, a two-column table of label → value and the configured closing text.

Why templates as data: offices word and order these forms differently, and analysts change them on the
type configuration page (a new audited version) without a developer. Values come from the case, its
application form and the completed tasks of each stage; a field the clerk's role may not see at this stage
(app/cases/field_access.py) prints as 无权查看, personal data is masked unless the clerk may unmask (then
printing is audited as an unmasking)."""
from __future__ import annotations

from io import BytesIO
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.access import definition_of
from app.casefile.models import Case, Task
from app.casefile.status import status_label
from app.cases.field_access import field_access
from app.catalog.definitions import BusinessTypeDef
from app.catalog.forms import pii_fields
from app.clock import CHINA
from app.errors import NotFound, PermissionDenied
from app.identity.actor import Actor
from app.identity.models import User
from app.pdf_page import A4, mm
from app.registry.certificate_content import office_name
from app.registry.certificate_pdf import font_name, wrap_text
from app.security import audit
from app.security.masking import mask_id_number, mask_name
from app.vocabulary import TaskStatus

DECISIONS = {"approve": "通过", "reject": "不通过", "correct": "补正", "return": "退回"}


def reports_of(definition: BusinessTypeDef) -> list[dict[str, Any]]:
    return list(definition.reports or [])


def _report(definition: BusinessTypeDef, code: str) -> dict[str, Any]:
    report = next((r for r in reports_of(definition) if r["code"] == code), None)
    if report is None:
        raise NotFound("该业务类型没有此报表", code="report_not_found")
    return report


def _local(value: Any) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value else ""


def report_rows(session: Session, actor: Actor, case: Case, code: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The report template and its (label, value) rows for this case, as the actor may see them."""
    definition = definition_of(session, case)
    report = _report(definition, code)
    schema = definition.application_schema
    unmasked = actor.has("pii:unmask")
    hidden = field_access(session, actor, case, definition).hidden
    secret = pii_fields(schema)
    form = case.form_data
    tasks = session.execute(select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.COMPLETED)
                            .order_by(Task.completed_at)).scalars().all()
    by_stage = {t.stage: t for t in tasks}  # the latest completion of each stage
    names = dict(session.execute(select(User.id, User.username).where(
        User.id.in_({t.completed_by for t in tasks if t.completed_by}))).all()) if tasks else {}

    def value(source: str) -> str:
        kind, _, rest = source.partition(".")
        if kind == "case":
            if rest == "parties":
                return "；".join(f"{p.label} {p.name if unmasked else mask_name(p.name)} "
                                f"{p.id_number if unmasked else mask_id_number(p.id_number)}" for p in case.parties)
            return str({"business_no": case.business_no, "type_name": definition.name, "unit_code": case.unit_code,
                        "submitted_at": _local(case.submitted_at), "status": status_label(case.status)}[rest] or "")
        if kind == "form":
            if rest in hidden:
                return "（无权查看）"
            raw = form.get(rest)
            if raw in (None, ""):
                return ""
            if rest in secret and not unmasked:
                return mask_id_number(str(raw)) if "id_number" in rest else mask_name(str(raw))
            return "是" if raw is True else "否" if raw is False else "、".join(map(str, raw)) \
                if isinstance(raw, list) else str(raw)
        stage, _, attr = rest.partition(".")
        task = by_stage.get(stage)
        if task is None:
            return ""
        return {"opinion": task.opinion or "", "decision": DECISIONS.get(task.decision or "", task.decision or ""),
                "by": names.get(task.completed_by or "", ""), "at": _local(task.completed_at)}[attr]

    return report, [(row["label"], value(row["value"])) for row in report["rows"]]


def render_report(session: Session, actor: Actor, case: Case, code: str, font_path: Any) -> bytes:
    """One A4 page: office, title, business number, the table, the closing text."""
    if actor.kind != "staff":
        raise PermissionDenied("审批表等内部报表仅供登记机构工作人员打印", code="forbidden")
    report, rows = report_rows(session, actor, case, code)
    audit.record(session, actor_id=actor.user_id, action="pii.unmask" if actor.has("pii:unmask") else "report.print",
                 object_type="case", object_id=case.id, tenant_id=case.tenant_id, after={"report": code})
    from reportlab.pdfgen.canvas import Canvas

    font = font_name(font_path)
    office = office_name(session, case.tenant_id)
    buffer = BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle(f"{report['title']} {case.business_no}")
    c.setAuthor(office)
    width, height = A4
    left, right, split = 20 * mm, width - 20 * mm, 62 * mm
    c.setFont(font, 18)
    c.drawCentredString(width / 2, height - 28 * mm, report["title"])
    c.setFont(font, 10.5)
    c.drawString(left, height - 38 * mm, office)
    c.drawRightString(right, height - 38 * mm, f"业务号：{case.business_no or '—'}")
    y = height - 42 * mm
    c.line(left, y, right, y)
    for label, text in rows:
        lines = wrap_text(text or "—", font, 11, right - split - 4 * mm) or ["—"]
        row_h = 16 * len(lines) + 8
        if y - row_h < 30 * mm:
            c.showPage()
            y = height - 25 * mm
            c.line(left, y, right, y)
        c.setFont(font, 11)
        c.drawString(left + 3 * mm, y - 16, label)
        for i, line in enumerate(lines):
            c.drawString(split + 3 * mm, y - 16 - 16 * i, line)
        c.line(left, y, left, y - row_h)
        c.line(split, y, split, y - row_h)
        c.line(right, y, right, y - row_h)
        y -= row_h
        c.line(left, y, right, y)
    y -= 10 * mm
    for paragraph in (report.get("text") or "").split("\n"):
        for line in wrap_text(paragraph, font, 11, right - left):
            c.setFont(font, 11)
            c.drawString(left, y, line)
            y -= 17
    c.showPage()
    c.save()
    return buffer.getvalue()
