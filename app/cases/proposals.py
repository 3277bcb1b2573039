"""修改建议: a co-applicant who may not edit the application (app/casefile/consent.py ``may_edit``) proposes
changed fields; the creator accepts or declines. Accepting is the creator's own edit (``update_application``):
the same validation, and the same rule that a change voids every confirmation and tells the parties.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import consent, progress
from app.casefile.access import definition_of, is_party
from app.casefile.models import Case, ChangeProposal
from app.catalog.definitions import BusinessTypeDef
from app.catalog.forms import validate_form_data
from app.db import utcnow
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.security import audit
from app.vocabulary import EDITABLE_STATUSES, EventKind, ProposalStatus


def _schema(definition: BusinessTypeDef) -> dict[str, Any]:
    return definition.application_schema


def propose(session: Session, actor: Actor, case: Case, changes: dict[str, Any]) -> ChangeProposal:
    if case.status not in EDITABLE_STATUSES:
        raise Conflict("申请已提交，不能再提出修改建议", code="case_not_editable")
    mine = [p for p in case.parties if actor.id_number_bidx and p.id_number_bidx == actor.id_number_bidx]
    if not mine or actor.kind == "staff":
        raise PermissionDenied("您不是本申请的当事人，不能提出修改建议", code="not_a_party")
    definition = definition_of(session, case)
    if consent.may_edit(definition, actor, case):
        raise Conflict("您可以直接修改本申请，无需提出修改建议", code="may_edit")
    schema = _schema(definition)
    unknown = sorted(k for k in changes if k not in schema.get("properties", {}))
    if unknown or not changes:
        raise ValidationFailed("请填写要修改的申请表字段", field="form")
    validate_form_data(schema, {**case.form_data, **changes}, partial=True)
    proposal = ChangeProposal(case_id=case.id, tenant_id=case.tenant_id, party_role=mine[0].role,
                              proposed_by=actor.user_id)
    proposal.ensure_id()
    proposal.changes = changes
    session.add(proposal)
    before = consent.snapshot(case)
    after = consent.Snapshot({**before.form, **changes}, before.unit_code, before.materials, "")
    lines = consent.describe_changes(definition, before, after)
    progress.add_event(session, case, kind=EventKind.CHANGE_PROPOSED, actor=actor,
                       message=f"{mine[0].label}提出修改建议：{'；'.join(lines)}（待创建人确认）")
    audit.record(session, actor_id=actor.user_id, action="case.change_proposed", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id,
                 after={"proposal": proposal.id, "fields": sorted(changes)})
    return proposal


def proposals_of(session: Session, actor: Actor, case: Case) -> list[dict[str, Any]]:
    """The proposals of a case: fields and values for the creator (who decides), field names otherwise."""
    if not is_party(actor, case) and actor.kind != "staff":
        return []
    creator = actor.user_id == case.applicant_id
    rows = session.execute(select(ChangeProposal).where(ChangeProposal.case_id == case.id)
                           .order_by(ChangeProposal.created_at)).scalars()
    return [{"id": p.id, "party_role": p.party_role, "status": p.status, "created_at": p.created_at.isoformat(),
             "fields": sorted(p.changes), **({"changes": p.changes} if creator else {})} for p in rows]


def decide(session: Session, actor: Actor, case: Case, proposal_id: str, *, accept: bool) -> ChangeProposal:
    """The creator accepts (his own edit, voiding the confirmations) or declines a pending proposal."""
    from app.cases.intake import update_application  # intake imports consent; proposals sit beside it

    if actor.user_id != case.applicant_id:
        raise PermissionDenied("只有申请的创建人可以处理修改建议", code="creator_only")
    proposal = session.execute(select(ChangeProposal).where(ChangeProposal.id == proposal_id,
                                                            ChangeProposal.case_id == case.id)).scalar_one_or_none()
    if proposal is None:
        raise NotFound("没有该修改建议", code="proposal_not_found")
    if proposal.status != ProposalStatus.PENDING:
        raise Conflict("该修改建议已处理", code="proposal_decided")
    if accept:
        update_application(session, actor, case, proposal.changes)
    proposal.status = ProposalStatus.ACCEPTED if accept else ProposalStatus.DECLINED
    proposal.decided_at, proposal.decided_by = utcnow(), actor.user_id
    label = next((p.label for p in case.parties if p.role == proposal.party_role), proposal.party_role)
    progress.add_event(session, case, kind=EventKind.CHANGE_DECIDED, actor=actor,
                       message=f"创建人已{'采纳' if accept else '不采纳'}{label}的修改建议")
    audit.record(session, actor_id=actor.user_id, action="case.change_decided", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id,
                 after={"proposal": proposal.id, "status": proposal.status})
    return proposal
