"""Consent to a case from the one who must consent (R2 预告权利人, R6 抵押权人 of a transfer-restricting
mortgage): an uploaded file names nobody, so a consent counts only when it is recorded as given by a holder
of the right in the register —

- online, by the consenter's own verified account: an institution account (the bank) confirms with its
  account; a person passes a face check against the 公安 photo of their ID number and signs by hand;
- on paper, checked by the 受理 clerk, who records whose consent the uploaded document is (name and ID
  number or USCC), checked here against the holders of the right.

The rules (app/registry/rules.py) re-check at every run that the recorded consenter still holds the right.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.access import definition_of, is_party
from app.casefile.models import Case, Consent, Material
from app.casefile.storage import Storage, sha256_hex
from app.cases.materials import sniff
from app.cases.sharing.snapshots import context_of
from app.cases.signing import FACE_PASS_SCORE, MAX_PHOTO_BYTES, checked_drawing
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.identity.models import User
from app.integrations.adapters import services
from app.registry.models import Right
from app.registry.rules import (
    ADVANCE_NOTICE_CONSENT,
    MORTGAGEE_CONSENT,
    consents_of,
    holder_consents,
    rights_needing_consent,
)
from app.right_types import right_name
from app.security import audit
from app.security.fields import blind_index
from app.security.masking import mask_name
from app.vocabulary import EDITABLE_STATUSES, CaseStatus, Channel, EventKind

CONSENT_SIGNATURE_CODE = "consent_signature"
# before 登簿
ONLINE_STATUSES = EDITABLE_STATUSES | {CaseStatus.ACCEPTING, CaseStatus.REVIEWING, CaseStatus.AWAITING_TAX}
PAPER_MATERIAL = {"advance_notice": ADVANCE_NOTICE_CONSENT, "mortgage": MORTGAGEE_CONSENT}


@dataclass(frozen=True)
class NeededConsent:
    """A right whose holders must consent, and the consent each holder gave (None: not yet)."""

    right: Right
    by_holder: dict[str, Consent | None]

    def given_by(self, bidx: str | None) -> Consent | None:
        return self.by_holder.get(bidx or "")

    def as_dict(self) -> dict[str, Any]:
        holders = []
        for h in self.right.holders:
            c = self.by_holder.get(h.id_number_bidx or "")
            holders.append({"name": mask_name(h.name or ""), "consented": c is not None,
                            "method": c.method if c else None, "at": c.created_at.isoformat() if c else None})
        return {"right_id": self.right.id, "right_type": self.right.right_type,
                "right_name": right_name(self.right.right_type), "proof_no": self.right.cert_no,
                "consented": bool(holders) and all(h["consented"] for h in holders), "holders": holders}


def needed_consents(session: Session, case: Case) -> list[NeededConsent]:
    """What the case still needs (or has) by way of consents, for the applicant, the consenter and the clerk."""
    consents = consents_of(session, case)
    return [NeededConsent(right, holder_consents(right, consents))
            for right in rights_needing_consent(session, case, definition_of(session, case))]


def case_for_consenter(session: Session, actor: Actor, case_id: str) -> Case:
    """The case as seen by a holder who must consent to it (not a party): anyone else gets 404."""
    case = session.execute(select(Case).where(Case.id == case_id)).scalar_one_or_none()
    if case is None or actor.kind not in ("applicant", "institution") or not actor.id_number_bidx:
        raise NotFound("未找到该申请", code="case_not_found")
    if not is_party(actor, case) and not _held_by(actor, needed_consents(session, case)):
        raise NotFound("未找到该申请", code="case_not_found")
    return case


def _held_by(actor: Actor, needed: list[NeededConsent]) -> list[NeededConsent]:
    return [n for n in needed if any(h.id_number_bidx == actor.id_number_bidx for h in n.right.holders)]


def _target(session: Session, case: Case, right_id: str | None, candidates: list[NeededConsent]) -> NeededConsent:
    if right_id:
        chosen = next((n for n in candidates if n.right.id == right_id), None)
        if chosen is None:
            raise ValidationFailed("该权利不需要（或不能由您）就本申请表示同意", field="right_id")
        return chosen
    if len(candidates) != 1:
        raise ValidationFailed("请指定同意所针对的权利（right_id）", field="right_id")
    return candidates[0]


def give_online(session: Session, storage: Storage, actor: Actor, case: Case, *, right_id: str | None = None,
                photo: bytes | None = None, signature_png: bytes | None = None) -> Consent:
    """The holder consents with their own account: an institution by its account, a person by face check and
    a hand-drawn signature (kept as a case document)."""
    if case.status not in ONLINE_STATUSES:
        raise Conflict("本申请已登簿或已办结，不能再表示同意", code="case_not_editable")
    mine = _held_by(actor, needed_consents(session, case))
    if not mine:
        raise PermissionDenied("您不是登记簿记载的需同意本申请的权利人", code="not_the_consenter")
    target = _target(session, case, right_id, mine)
    if target.given_by(actor.id_number_bidx) is not None:
        raise Conflict("您已就该权利同意本申请", code="already_consented")
    user = session.get_one(User, actor.user_id)
    material_id = None
    if actor.kind == "institution":
        kind = "org"
    else:
        kind = "person"
        material_id = _face_and_signature(session, storage, actor, case, user, photo, signature_png)
    consent = Consent(case_id=case.id, tenant_id=case.tenant_id, right_id=target.right.id, method="online",
                      consenter_kind=kind, consenter_user_id=user.id, material_id=material_id,
                      recorded_by=actor.user_id)
    consent.ensure_id()
    consent.consenter_name, consent.consenter_id_number = user.real_name, user.id_number
    return _record(session, actor, case, consent, target.right)


def _face_and_signature(session: Session, storage: Storage, actor: Actor, case: Case, user: User,
                        photo: bytes | None, signature_png: bytes | None) -> str:
    if not photo or len(photo) > MAX_PHOTO_BYTES or (sniff(photo) or ("", ""))[0] not in ("jpg", "png"):
        raise ValidationFailed("请拍摄本人正面照片（JPG 或 PNG，不超过 5 MB）进行人脸核验", field="photo")
    png = checked_drawing(signature_png or b"")
    score = services.face_score(session, context_of(case, actor.user_id), user.id_number or "",
                                base64.b64encode(photo).decode())
    audit.record(session, actor_id=actor.user_id, action="case.consent_face_check", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id,
                 after={"score": score, "passed": score >= FACE_PASS_SCORE})
    if score < FACE_PASS_SCORE:
        raise ValidationFailed("人脸核验未通过：照片与公安部门登记的本人照片不一致", field="photo",
                               code="face_mismatch")
    material = Material(case_id=case.id, tenant_id=case.tenant_id, code=CONSENT_SIGNATURE_CODE,
                        content_type="image/png", size=len(png), sha256=sha256_hex(png),
                        storage_key=storage.put(session, png, tenant_id=case.tenant_id),
                        uploaded_by=actor.user_id or "")
    material.ensure_id()
    material.filename = "同意人电子签名.png"
    case.materials.append(material)
    session.add(material)
    return material.id


def record_paper(session: Session, actor: Actor, case: Case, *, right_id: str | None, consenter_name: str,
                 consenter_id_number: str, material_id: str | None = None) -> Consent:
    """The 受理 clerk has checked a paper consent uploaded with the application and records whose it is;
    refused unless that person or institution holds the right in the register."""
    actor.require("consent:record")
    at_window = case.status == CaseStatus.DRAFT and case.channel == Channel.WINDOW
    if not (case.status == CaseStatus.ACCEPTING or at_window):
        raise Conflict("纸质书面同意在受理环节由受理人员核验记录", code="case_not_editable")
    needed = needed_consents(session, case)
    if not needed:
        raise Conflict("本申请无需权利人同意", code="no_consent_needed")
    target = _target(session, case, right_id, needed)
    code = PAPER_MATERIAL.get(target.right.right_type, "")
    documents = [m for m in case.materials if m.code == code and (material_id is None or m.id == material_id)]
    if not documents:
        raise ValidationFailed("申请中没有可核验的书面同意材料", field="material_id")
    name, id_number = consenter_name.strip(), consenter_id_number.strip()
    if not name or not id_number:
        raise ValidationFailed("请填写同意人姓名（名称）及证件号码", field="consenter_id_number")
    bidx = blind_index(id_number)
    holder = next((h for h in target.right.holders if h.id_number_bidx == bidx), None)
    if holder is None or (holder.name or "").strip() != name:
        raise ValidationFailed(f"同意人不是登记簿记载的该{right_name(target.right.right_type)}权利人，"
                               "不能作为权利人的同意", field="consenter_id_number", code="consenter_not_holder")
    if target.given_by(bidx) is not None:
        raise Conflict("该权利人的同意已记录", code="already_consented")
    consent = Consent(case_id=case.id, tenant_id=case.tenant_id, right_id=target.right.id, method="paper",
                      consenter_kind=holder.kind, material_id=documents[-1].id, recorded_by=actor.user_id)
    consent.ensure_id()
    consent.consenter_name, consent.consenter_id_number = name, id_number
    return _record(session, actor, case, consent, target.right)


def _record(session: Session, actor: Actor, case: Case, consent: Consent, right: Right) -> Consent:
    session.add(consent)
    session.flush()
    session.expire(case, ["consents"])  # read with the case (Case.consents): the new one is read afresh
    how = "在平台确认" if consent.method == "online" else "纸质书面同意经受理人员核验"
    progress.add_event(session, case, kind=EventKind.CONSENTED, actor=actor,
                       message=f"{right_name(right.right_type)}权利人{mask_name(consent.consenter_name or '')}"
                               f"同意本申请（{how}）")
    audit.record(session, actor_id=actor.user_id, action="case.consent", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"consent_id": consent.id, "right_id": right.id,
                                                  "method": consent.method, "consenter": consent.consenter_bidx,
                                                  "material_id": consent.material_id})
    return consent
