"""What goes into a case's archive: every document (materials with the 申请书 and signatures, the acceptance
notices, the certificates, the register entries, the verification snapshots, the process history) and the
business and agent lines of the EEP, read from the case's rows and the file storage. Read-only."""
from __future__ import annotations

import json
from io import BytesIO
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.archives.eep import Action, Agent, Document
from app.casefile.models import Case, CaseEvent, Material, Party, Task
from app.casefile.storage import Storage
from app.clock import CHINA
from app.identity.models import User
from app.integrations.verification_models import VerificationSnapshot
from app.registry.models import Certificate, RegisterEntry
from app.registry.rule_results import unpack
from app.vocabulary import CertificateStatus

SIGNATURES = {"signature": "当事人签名", "consent_signature": "书面同意签名"}  # not checklist items
CERTIFICATE_STATES: dict[str, str] = {CertificateStatus.VALID: "有效", CertificateStatus.REVOKED: "已注销",
                      CertificateStatus.VOIDED: "已作废"}
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "application/json": "json"}


def certificates_pending(session: Session, case: Case) -> bool:
    """A certificate of the case still 制证中: the package waits for its signed PDF."""
    return session.scalar(select(Certificate.id).where(
        Certificate.case_id == case.id, Certificate.storage_key.is_(None), Certificate.page_enc.is_not(None),
        Certificate.status != CertificateStatus.VOIDED).limit(1)) is not None


def pdf_pages(content: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return int(PdfFileReader(BytesIO(content), strict=False).root["/Pages"]["/Count"])
    except Exception:  # not a readable PDF: archived as it is, counted as one page
        return 1


def _json_doc(kind: str, title: str, filename: str, value: Any) -> Document:
    content = json.dumps(value, ensure_ascii=False, indent=1, default=str).encode()
    return Document(kind, title, filename, "application/json", content, 1)


def _local(at: Any) -> str:
    return at.astimezone(CHINA).isoformat(timespec="seconds") if at is not None else ""


def documents(session: Session, storage: Storage, case: Case, font: Any) -> list[Document]:
    from app.casefile.access import definition_of
    from app.cases.notices import notices_of_case, render_notice

    names = {item.code: item.name for item in definition_of(session, case).materials}
    docs: list[Document] = [_json_doc("application", "申请信息（申请表、当事人、确认与签名记录）", "application.json",
                                      application(session, case))]
    for m in session.scalars(select(Material).where(Material.case_id == case.id).order_by(Material.created_at)):
        content = storage.get(m.storage_key, tenant_id=case.tenant_id)
        pages = pdf_pages(content) if m.content_type == "application/pdf" else 1
        title = names.get(m.code) or SIGNATURES.get(m.code) or m.code
        docs.append(Document("material", title, m.filename or f"{m.code}.{EXTENSIONS.get(m.content_type, 'bin')}",
                             m.content_type, content, pages))
    for notice in notices_of_case(session, case):
        pdf = render_notice(session, case, notice.kind, font)
        docs.append(Document("notice", notice.title, f"{notice.title}.pdf", "application/pdf", pdf, pdf_pages(pdf)))
    for cert in session.scalars(select(Certificate).where(Certificate.case_id == case.id,
                                                          Certificate.storage_key.is_not(None))
                                .order_by(Certificate.issued_at)):
        pdf = storage.get(cert.storage_key or "", tenant_id=cert.tenant_id)
        state = CERTIFICATE_STATES.get(cert.status, cert.status)
        docs.append(Document("certificate", f"{cert.number}（{state}）", f"{cert.number}.pdf",
                             "application/pdf", pdf, pdf_pages(pdf)))
    entries = session.scalars(select(RegisterEntry).where(RegisterEntry.business_no == case.business_no)
                              .order_by(RegisterEntry.recorded_at).execution_options(all_tenants=True)).all()
    if entries:
        docs.append(_json_doc("register", "登记簿记载", "register_entries.json", [
            {"unit_id": e.unit_id, "seq": e.seq, "kind": e.kind, "recorded_at": _local(e.recorded_at),
             "change": e.change, "prev_hash": e.prev_hash, "hash": e.hash} for e in entries]))
    snapshots = session.scalars(select(VerificationSnapshot).where(VerificationSnapshot.case_id == case.id)
                                .order_by(VerificationSnapshot.checked_at)).all()
    if snapshots:
        docs.append(_json_doc("verification", "部门核验结果快照", "verifications.json", [
            {"department": s.department, "operation": s.operation, "source": s.source,
             "subject": s.subject_label, "result": s.result, "marks": s.marks, "fields": s.fields,
             "checked_at": _local(s.checked_at)} for s in snapshots]))
    docs.append(_json_doc("history", "办理过程记录", "history.json", history(session, case)))
    return docs


def application(session: Session, case: Case) -> dict[str, Any]:
    """What was applied for and by whom: the form's answers, each party with its share, its confirmation, face
    check and signature (kind, time, the digest of the content signed), the inquiry answers, fees and rules."""
    parties = session.scalars(select(Party).where(Party.case_id == case.id).order_by(Party.position))
    return {"business_no": case.business_no, "business_type": case.business_type_code, "channel": case.channel,
            "unit_code": case.unit_code, "submitted_at": _local(case.submitted_at),
            "accepted_at": _local(case.accepted_at), "completed_at": _local(case.completed_at),
            "form": case.form_data, "inquiry": case.inquiry_answers, "fees": case.fee_items,
            "rule_results": unpack(case.rule_results),
            "parties": [{"role": p.role, "label": p.label, "kind": p.kind, "name": p.name, "id_number": p.id_number,
                         "share": p.share, "share_mode": p.share_mode, "confirmed_at": _local(p.confirmed_at),
                         "face_checked_at": _local(p.face_checked_at), "face_score": p.face_score,
                         "signed_at": _local(p.signed_at), "signature_kind": p.signature_kind,
                         "signature_sha256": p.signature_sha256, "signed_content_sha256": p.signed_content_sha256,
                         "confirmation_voided_at": _local(p.confirmation_voided_at)} for p in parties]}


def history(session: Session, case: Case) -> dict[str, Any]:
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
    tasks = session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.created_at))
    return {"business_no": case.business_no, "status": case.status,
            "events": [{"seq": e.seq, "at": _local(e.at), "kind": e.kind, "stage": e.stage, "status": e.status,
                        "decision": e.decision, "actor": e.actor_id, "role": e.actor_role, "message": e.message}
                       for e in events],
            "tasks": [{"title": t.title, "stage": t.stage, "role": t.role, "status": t.status,
                       "assignee": t.assignee_id, "completed_by": t.completed_by, "created_at": _local(t.created_at),
                       "completed_at": _local(t.completed_at), "decision": t.decision, "opinion": t.opinion}
                      for t in tasks]}


def actions(session: Session, case: Case, legal_basis: list[str]) -> list[Action]:
    """业务实体块: one line per timeline event (who, when, what, on which basis)."""
    basis = "；".join(legal_basis) or "不动产登记暂行条例"
    return [Action(at=_local(e.at), actor=e.actor_id or "system", status=e.status,
                   action=f"{e.stage or ''}{e.kind}", basis=basis, description=e.message or "")
            for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))]


def agents(session: Session, case: Case, office: str) -> list[Agent]:
    """机构人员实体块: the office, the staff who acted, and the parties (personal data stays inside the
    package, which is sealed at rest and signed)."""
    rows = [Agent(case.tenant_id, "单位", office, org_code=case.tenant_id)]
    staff_ids = {e.actor_id for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
                 if e.actor_id}
    for user in session.scalars(select(User).where(User.id.in_(staff_ids), User.kind == "staff")):
        rows.append(Agent(user.id, "个人", user.username, org_code=user.tenant_id or "", position="登记机构工作人员"))
    for party in session.scalars(select(Party).where(Party.case_id == case.id).order_by(Party.position)):
        rows.append(Agent(party.id, "个人" if party.kind == "person" else "单位", party.name or "",
                          org_code=party.id_number if party.kind != "person" else "", position=party.label))
    return rows


def holder_indexes(session: Session, case: Case) -> set[str]:
    """Blind indexes of every party of the case and every holder of the rights it registered."""
    from app.registry.models import Right, RightHolder

    found = {b for b in session.scalars(select(Party.id_number_bidx).where(Party.case_id == case.id)) if b}
    if case.business_no:
        found |= {b for b in session.scalars(
            select(RightHolder.id_number_bidx).join(Right, Right.id == RightHolder.right_id)
            .where(Right.business_no == case.business_no).execution_options(all_tenants=True)) if b}
    return found
