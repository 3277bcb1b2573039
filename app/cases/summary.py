"""A case as skins show it: personal data masked unless the caller may and asks to see it whole."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.access import definition_of, is_party
from app.casefile.models import Case, Task
from app.casefile.status import status_label
from app.cases.field_access import field_access, restrict_summary
from app.cases.materials import missing_codes, required_codes
from app.cases.sharing import exemptions
from app.catalog.forms import pii_fields
from app.errors import PermissionDenied
from app.identity.actor import Actor
from app.registry import rule_results
from app.registry.certificates import certificates_of_case
from app.registry.fees import fee_total_yuan
from app.security import audit
from app.security.masking import mask_id_number, mask_name, mask_value
from app.vocabulary import EDITABLE_STATUSES, CaseStatus, TaskStatus


def case_summary(session: Session, case: Case, *, unmasked: bool = False, viewer: Actor | None = None
                 ) -> dict[str, Any]:
    """``viewer``: who reads it, so each certificate says whether they may download it (a bank's 登记证明
    comes back to the bank's account, issue 19); without one nothing is offered for download."""
    definition = definition_of(session, case)
    schema = definition.application_schema
    secret = pii_fields(schema)
    props = schema.get("properties", {})
    form = case.form_data
    shown = {k: (v if unmasked or k not in secret else mask_value(k, props.get(k, {}), v)) for k, v in form.items()}
    # A draft has neither tasks nor certificates (both come after submission): two queries fewer for each answer
    # of create, upload, confirm and the applicant's reads before submitting (issue 18).
    draft = case.status == CaseStatus.DRAFT
    open_stages = () if draft else tuple(sorted(set(session.execute(
        select(Task.stage).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN)).scalars())))
    waivers = exemptions.waivers_of(session, case, definition)
    deferred = exemptions.deferred_codes(session, definition, case)
    missing = (missing_codes(definition, case, waived={w["code"] for w in waivers}, deferred=deferred)
               if case.status in EDITABLE_STATUSES else [])
    return {
        "id": case.id,
        "business_no": case.business_no,
        "business_type": case.business_type_code,
        "business_type_name": definition.name,
        "status": case.status,
        "status_label": status_label(case.status),
        "tenant_id": case.tenant_id,
        "channel": case.channel,
        # filed by an agent institution for its client: under which 授权委托书 (the principal masked)
        "power_of_attorney": _power_of_attorney(session, case),
        "unit_code": case.unit_code,
        "form": shown,
        "masked": not unmasked,
        "parties": [{
            "role": p.role, "label": p.label, "kind": p.kind,
            "name": p.name if unmasked else mask_name(p.name),
            "id_number": p.id_number if unmasked else mask_id_number(p.id_number),
            "share": p.share, "share_mode": p.share_mode,  # a co-owner filled from the register
            "confirmed": p.confirmed_at is not None,
            "face_checked": p.face_checked_at is not None,
            "signed": p.signed_at is not None, "signature_kind": p.signature_kind,
            "signature_sha256": p.signature_sha256, "signature_material_id": p.signature_material_id,
            # what the signature covers (app/casefile/consent.py); voided: a change since asks for a new one
            "signed_content_sha256": p.signed_content_sha256,
            "confirmation_voided": p.confirmation_voided_at is not None,
        } for p in case.parties],
        "materials": [{"id": m.id, "code": m.code, "content_type": m.content_type, "size": m.size,
                       "sha256": m.sha256, "uploaded_at": m.created_at.isoformat()} for m in case.materials],
        "materials_missing": missing,
        # Data sharing (app/cases/sharing/exemptions.py): items waived and why; items a check will decide.
        "materials_waived": waivers,
        "materials_deferred": sorted(set(required_codes(definition, case.form_public)) & deferred),
        "correction_items": case.correction_items,
        "fee_items": case.fee_items or [],
        "fee_total_yuan": fee_total_yuan(case.fee_items or []),
        "rule_results": rule_results.unpack(case.rule_results),
        "current_stages": list(open_stages),
        "certificates": [] if draft else certificates_of_case(session, case.id, viewer),
        "created_at": case.created_at.isoformat(),
        "submitted_at": case.submitted_at.isoformat() if case.submitted_at else None,
        "completed_at": case.completed_at.isoformat() if case.completed_at else None,
    }


def _power_of_attorney(session: Session, case: Case) -> dict[str, Any] | None:
    if not case.power_of_attorney_id:
        return None
    from app.casefile.attorney_models import PowerOfAttorney
    from app.cases.attorney import shown

    poa = session.get(PowerOfAttorney, case.power_of_attorney_id)
    return shown(poa) if poa is not None else None


def show_case(session: Session, actor: Actor, case: Case, *, unmask: bool = False) -> dict[str, Any]:
    """A case for display; seeing personal data whole needs the permission (or being the party) and is audited.
    Staff see only the fields their role may see at the case's stage (app/cases/field_access.py)."""
    if unmask:
        from app.casefile.consent import may_edit  # a co-applicant sees his counterpart's data masked

        allowed = (is_party(actor, case) and may_edit(definition_of(session, case), actor, case)
                   if actor.kind != "staff" else actor.has("pii:unmask"))
        if not allowed:
            raise PermissionDenied("您没有查看完整个人信息的权限", code="pii_unmask_forbidden")
        audit.record(session, actor_id=actor.user_id, action="pii.unmask", object_type="case", object_id=case.id,
                     tenant_id=case.tenant_id)
    summary = case_summary(session, case, unmasked=unmask, viewer=actor)
    if actor.kind == "staff":  # per-stage permissions: fields the role may not see at this stage are left out
        definition = definition_of(session, case)  # the open stages just read by the summary, not read again
        access = field_access(session, actor, case, definition, stages=tuple(summary["current_stages"]))
        summary = restrict_summary(summary, definition, access)
    return summary
