"""Consent follows content: nothing a party signed can change without that party signing again (issue 13 §1).

What a signature covers (the *signed content*) is the application form, the parties' identities (role, name,
ID number), the unit code and the materials (code + SHA-256), never the signatures themselves. Its digest
(canonical JSON, SHA-256) is stored on the party when it signs (``Party.signed_content_sha256``).

Every write path that can change the signed content — a draft edit, an edit during 补正, a material uploaded
or deleted, a clerk's field correction — takes a ``snapshot`` before and calls ``record_change`` after. When
the digest moved, *every* party that had confirmed loses its confirmation and signature, the one who made the
change included (his signature covered the old content too; he renews it by signing again). Each affected
party is told field by field: a timeline event "某某修改了申请信息，…需重新签名" (who, masked, and when; personal
data masked) and an SMS naming the editor to the phone of the party's verified account (or the phone he was
invited on); the clerk's case page lists the changes since the case was last decided at 受理/审核
(``changes_since_last_review``). Before saving, the editing page says whose signatures the edit will void
(``resign_notice``).

Submission, resubmission after 补正 and 登簿 call ``require_current``: every party that must confirm
(``confirm_roles``) holds a confirmation over exactly the current content, else 409 ``confirmation_required``
naming who must sign again. A party whose confirmation was voided may sign again at any stage before the case
ends (``may_reconfirm``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from app.casefile import progress
from app.casefile.models import Case, CaseEvent, Invitation, Party
from app.catalog.definitions import BusinessTypeDef
from app.catalog.forms import pii_fields
from app.db import utcnow
from app.errors import Conflict, PermissionDenied
from app.identity.actor import Actor
from app.identity.models import User
from app.security import audit
from app.security.masking import mask_name, mask_value
from app.vocabulary import EDITABLE_STATUSES, EventKind, Stage

SIGNATURE_CODE = "signature"  # signature images are case documents but not part of what is signed
# Nor is a right holder's consent signature (app/cases/consents.py): a third party's act, not the application.
NOT_SIGNED_CODES = frozenset({SIGNATURE_CODE, "consent_signature"})
CHANGED_KIND = EventKind.CONTENT_CHANGED
REVIEW_STAGES = (Stage.ACCEPT, Stage.REVIEW)
_OPEN = EDITABLE_STATUSES
_MAX_SHOWN = 8  # changes listed in an SMS / timeline line; the rest are counted


@dataclass(frozen=True)
class Signer:
    """A party that had confirmed or signed before a change (he may be replaced by it: still told)."""

    role: str
    label: str
    id_number_bidx: str | None


@dataclass(frozen=True)
class Snapshot:
    form: dict[str, Any]
    unit_code: str | None
    materials: tuple[tuple[str, str], ...]
    digest: str
    signers: tuple[Signer, ...] = ()


def may_edit(definition: BusinessTypeDef, actor: Actor, case: Case) -> bool:
    """The creator edits his application; another party (co-applicant) sees it read-only, his counterpart's
    personal data masked, unless the type lets co-applicants edit (business.yaml ``co_applicants_edit``).
    Either way a change voids the confirmations (``record_change``). Staff edit through their own paths."""
    return actor.kind == "staff" or actor.user_id == case.applicant_id or definition.co_applicants_edit


def require_may_edit(definition: BusinessTypeDef, actor: Actor, case: Case) -> None:
    if not may_edit(definition, actor, case):
        raise PermissionDenied("本申请由创建人填写和修改，您可以核对并签名确认；如需修改，请联系创建人",
                               code="creator_only")


def _generated_codes(case: Case) -> set[str]:
    """The items the platform makes from the signed content (the 申请书): derived from it, not part of it —
    else attaching the 申请书 after the last signature would void every signature."""
    session = object_session(case)
    if session is None or not case.process_version_id:
        return set()
    from app.casefile.access import definition_of

    return {m.code for m in definition_of(session, case).materials if m.generated}


def snapshot(case: Case) -> Snapshot:
    form = case.form_data
    skipped = NOT_SIGNED_CODES | _generated_codes(case)
    materials = tuple(sorted((m.code, m.sha256) for m in case.materials if m.code not in skipped))
    parties = [[p.role, p.name or "", p.id_number or ""] for p in case.parties]
    content = {"form": form, "parties": parties, "unit_code": case.unit_code, "materials": materials}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    signers = tuple(Signer(p.role, p.label, p.id_number_bidx) for p in case.parties if _holds_something(p))
    return Snapshot(form, case.unit_code, materials, hashlib.sha256(canonical.encode()).hexdigest(), signers)


def _holds_something(party: Party) -> bool:
    return bool(party.confirmed_at or party.signed_at or party.signed_content_sha256)


def content_digest(case: Case) -> str:
    return snapshot(case).digest


def is_current(party: Party, digest: str) -> bool:
    return party.confirmed_at is not None and party.signed_content_sha256 == digest


def must_confirm(definition: BusinessTypeDef, case: Case) -> list[Party]:
    roles = definition.confirm_roles  # None: every party confirms (processes/README.md)
    return [p for p in case.parties if roles is None or p.role in roles]


def stale_parties(definition: BusinessTypeDef, case: Case) -> list[Party]:
    digest = content_digest(case)
    return [p for p in must_confirm(definition, case) if not is_current(p, digest)]


def _is_actor(actor: Actor, party: Party) -> bool:
    return bool(actor.id_number_bidx) and party.id_number_bidx == actor.id_number_bidx


def changed_by(actor: Actor, case: Case) -> str:
    """Who changed the content, as the timeline names it: the party's role and masked name (the other
    parties read it, so no personal data in clear)."""
    mine = [f"{p.label}（{mask_name(p.name)}）" for p in case.parties if _is_actor(actor, p)]
    return "、".join(mine) if mine else ("登记机构工作人员" if actor.kind == "staff" else "申请人")


@dataclass(frozen=True)
class ResignNotice:
    """What a page tells an editor before he saves: whose signatures his change would void."""

    others: tuple[str, ...]  # the other parties holding a confirmation, role and masked name
    own: bool  # his own signature too

    def __bool__(self) -> bool:
        return bool(self.others) or self.own


def resign_notice(actor: Actor, case: Case) -> ResignNotice:
    """Said before saving, not after: an edit now voids these confirmations (``record_change``), so the
    editor knows the others will have to sign again before he changes anything."""
    holding = [p for p in case.parties if _holds_something(p)]
    others = tuple(dict.fromkeys(f"{p.label}（{mask_name(p.name)}）" for p in holding if not _is_actor(actor, p)))
    return ResignNotice(others, any(_is_actor(actor, p) for p in holding))


def _who(parties: list[Party]) -> str:
    return "、".join(f"{p.label}（{mask_name(p.name)}）" for p in parties)


def require_current(definition: BusinessTypeDef, case: Case, *, only_voided: bool = False) -> None:
    """409 ``confirmation_required`` unless every party that must confirm signed exactly the current content.
    ``only_voided``: at first submission, a party who never confirmed is the ordinary 422 ``not_ready``;
    only a confirmation that was voided (or no longer matches) is refused here."""
    stale = stale_parties(definition, case)
    if only_voided:
        stale = [p for p in stale if p.confirmation_voided_at is not None or p.confirmed_at is not None]
    if stale:
        lines = [f"待{p.label}（{mask_name(p.name)}）重新签名确认" for p in stale]
        raise Conflict(f"申请内容在签名确认后已变更或尚未确认，须以下当事人重新签名确认：{_who(stale)}",
                       code="confirmation_required", errors={"confirmations": lines})


def may_reconfirm(case: Case, parties: list[Party]) -> bool:
    """Confirming is for drafts and 补正; later only a party whose confirmation a change voided signs again."""
    if case.status in _OPEN:
        return True
    if case.completed_at is not None:
        return False
    digest = content_digest(case)
    return any(p.confirmation_voided_at is not None or (p.confirmed_at and p.signed_content_sha256 != digest)
               for p in parties)


def mark_signed(party: Party, digest: str) -> None:
    party.signed_content_sha256, party.confirmation_voided_at = digest, None


def _void(party: Party, now: Any) -> None:
    party.confirmed_at = party.confirmed_by = party.signed_at = None
    party.signature_kind = party.signature_sha256 = party.signature_material_id = None
    party.signed_content_sha256 = None
    party.confirmation_voided_at = party.confirmation_voided_at or now  # the first change he has not signed


def _shown(field: str, spec: dict[str, Any], value: Any, secret: set[str]) -> str:
    if value in (None, ""):
        return "（空）"
    return str(mask_value(field, spec, value) if field in secret else value)


def describe_changes(definition: BusinessTypeDef, before: Snapshot, after: Snapshot) -> list[str]:
    """Field by field, in the form's order: ``价格（元）：1000000 → 1``; personal data masked."""
    schema = definition.application_schema
    props, secret = schema.get("properties", {}), pii_fields(schema)
    keys = [k for k in props if k in before.form or k in after.form]
    keys += sorted(k for k in {*before.form, *after.form} if k not in props)
    lines = [f"{props.get(k, {}).get('title', k)}：{_shown(k, props.get(k, {}), before.form.get(k), secret)} → "
             f"{_shown(k, props.get(k, {}), after.form.get(k), secret)}"
             for k in keys if before.form.get(k) != after.form.get(k)]
    if before.unit_code != after.unit_code and "unit_code" not in keys:
        lines.append(f"不动产单元：{before.unit_code or '（空）'} → {after.unit_code or '（空）'}")
    names = {m.code: m.name for m in definition.materials}
    old, new = set(before.materials), set(after.materials)
    lines += [f"上传材料：{names.get(code, code)}" for code, _ in sorted(new - old)]
    lines += [f"删除材料：{names.get(code, code)}" for code, _ in sorted(old - new)]
    return lines


def _summary(lines: list[str]) -> str:
    shown = "；".join(lines[:_MAX_SHOWN])
    return shown + (f"；等 {len(lines)} 项" if len(lines) > _MAX_SHOWN else "")


def _phone_of(session: Session, case: Case, signer: Signer) -> str | None:
    """The party's verified account's phone, else the phone the party was invited on."""
    if signer.id_number_bidx:
        user = session.execute(select(User).where(User.id_number_bidx == signer.id_number_bidx,
                                                  User.verified_at.is_not(None))
                               .execution_options(all_tenants=True)).scalars().first()
        if user is not None and user.phone:
            return str(user.phone)
    invitation = session.execute(select(Invitation).where(Invitation.case_id == case.id,
                                                          Invitation.party_role == signer.role)
                                 .order_by(Invitation.created_at.desc())).scalars().first()
    return str(invitation.phone) if invitation is not None and invitation.phone else None


def _text(session: Session, actor: Actor, case: Case, definition: BusinessTypeDef, signers: list[Signer],
          changes: str, editor: str) -> None:
    from app.integrations.adapters.services import send_sms
    from app.integrations.client import CallContext, ServiceUnavailable

    for signer in signers:
        phone = _phone_of(session, case, signer)
        if not phone:
            continue
        try:
            send_sms(session, CallContext(actor_id=actor.user_id, case_id=case.id), phone, "case_content_changed",
                     {"business_type": definition.name or "不动产登记", "role": signer.label,
                      "business_no": case.business_no or "", "changes": changes, "editor": editor})
        except ServiceUnavailable:  # the timeline still tells; the call log shows the failed send
            continue


def record_change(session: Session, actor: Actor, case: Case, before: Snapshot, definition: BusinessTypeDef, *,
                  source: str, stage: str | None = None, actor_role: str | None = None) -> list[Party]:
    """After a write: if the signed content changed, void every confirmation, tell the parties, audit it.
    Once the case was submitted every change is recorded (the clerk's page lists them), even when no
    confirmation is left to void. Returns the parties whose confirmation was voided."""
    after = snapshot(case)
    if after.digest == before.digest:
        return []
    if not before.signers and not case.business_no and not any(p.confirmation_voided_at for p in case.parties):
        return []  # a draft nobody has signed yet: editing it is just filling it in
    lines = describe_changes(definition, before, after)
    now = utcnow()
    voided = [p for p in case.parties if _holds_something(p) or p.confirmation_voided_at]
    for party in voided:
        _void(party, now)
    for party in case.parties:  # a person put in place of a signer has his confirmation still to give
        if any(s.role == party.role for s in before.signers) and party.confirmed_at is None:
            party.confirmation_voided_at = party.confirmation_voided_at or now
    labels = list(dict.fromkeys(s.label for s in before.signers))
    changes = _summary(lines) or "申请内容"
    tail = f"，{'、'.join(labels)}需重新签名" if labels else ""
    progress.add_event(session, case, kind=CHANGED_KIND, actor=actor, stage=stage, actor_role=actor_role,
                       message=f"{source}修改了申请信息{tail}。修改内容：{changes}")
    told = [s for s in before.signers if not (actor.id_number_bidx and s.id_number_bidx == actor.id_number_bidx)]
    _text(session, actor, case, definition, told, changes, source)
    audit.record(session, actor_id=actor.user_id, action="case.content_changed", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id, before={"sha256": before.digest},
                 after={"sha256": after.digest, "changes": len(lines), "source": source,
                        "voided": sorted({s.role for s in before.signers})})
    return voided


def changes_unsigned_by(session: Session, case: Case, parties: list[Party]) -> list[str]:
    """The changes a party has not signed yet (since his confirmation was first voided), for the portal."""
    since = min((p.confirmation_voided_at for p in parties if p.confirmation_voided_at), default=None)
    if since is None:
        return []
    return [m or "" for m in session.execute(select(CaseEvent.message).where(  # changes are always stored
        CaseEvent.case_id == case.id, CaseEvent.kind == CHANGED_KIND, CaseEvent.at >= since)
        .order_by(CaseEvent.seq)).scalars()]


def changes_since_last_review(session: Session, case: Case) -> list[dict[str, Any]]:
    """Content changes since the case was last decided at 受理/审核 (what the clerk has not seen yet)."""
    events = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.seq)).scalars().all()
    last = max((e.seq for e in events if e.kind == EventKind.STEP_COMPLETED and e.stage in REVIEW_STAGES), default=None)
    if last is None:
        return []
    return [{"seq": e.seq, "at": e.at, "message": e.message} for e in events
            if e.kind == CHANGED_KIND and e.seq > last]
