"""邀请共同申请人: an applicant invites another party of the draft (the buyer, the other co-owner …) by phone.

The invitee gets an SMS with a signed link. The link names the invitation only; it opens the case to the
person who signs in (by SMS code, signing up if new), completes 实名认证 and *is* the party the application
names — the same rule as every other case access (``is_party``), so a forwarded link shows nothing to anyone
else. The invitee then reviews and confirms with the existing confirmation step.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import progress
from app.casefile.access import is_party
from app.casefile.models import Case, Invitation
from app.db import new_id, utcnow
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.identity.service import normalise_phone
from app.integrations.adapters.services import send_sms
from app.integrations.answers import stable
from app.integrations.client import CallContext
from app.security import audit, rate_limit
from app.vocabulary import EDITABLE_STATUSES, EventKind

LINK_TTL = timedelta(days=7)
_SALT = "case-invitation"
PER_CASE = (rate_limit.Limit(10, timedelta(hours=24), "今天发出的邀请已达上限，请 {wait}后再试"),)
PER_PHONE = (rate_limit.Limit(1, timedelta(minutes=1), "刚刚已向该号码发送邀请，请 {wait}后再试"),)


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    link: str


def invitable_parties(case: Case, actor: Actor) -> list[tuple[str, str]]:
    """(role, label) of the parties other than the actor who have not confirmed yet."""
    seen: dict[str, str] = {}
    for p in case.parties:
        if p.confirmed_at is None and p.id_number_bidx != actor.id_number_bidx:
            seen.setdefault(p.role, p.label)
    return list(seen.items())


def invitations_of(session: Session, case: Case) -> list[dict[str, object]]:
    """What the inviter sees: whom (by role) they invited, when, and whether the link was opened."""
    labels = {p.role: p.label for p in case.parties}
    rows = session.execute(select(Invitation).where(Invitation.case_id == case.id)
                           .order_by(Invitation.created_at)).scalars()
    return [{"label": labels.get(i.party_role, i.party_role), "at": i.created_at, "opened": i.opened_at is not None}
            for i in rows]


def invite(session: Session, actor: Actor, case: Case, *, phone: str, party_role: str, secret: str,
           base_url: str) -> SentInvitation:
    """Record the invitation and text the link. Raises ``ValidationFailed`` (phone, role), ``Conflict`` (case
    not a draft), ``TooManyRequests`` or ``ServiceUnavailable`` (SMS gateway)."""
    if not is_party(actor, case):
        raise PermissionDenied("您不是本申请的当事人，不能邀请他人", code="not_a_party")
    if case.status not in EDITABLE_STATUSES:
        raise Conflict("申请已提交，无需再邀请确认", code="case_not_editable")
    phone = normalise_phone(phone)
    labels = dict(invitable_parties(case, actor))
    if party_role not in labels:
        raise ValidationFailed("请选择要邀请的当事人", field="party_role")
    invitation = Invitation(case_id=case.id, tenant_id=case.tenant_id, party_role=party_role,
                            invited_by=actor.user_id, expires_at=utcnow() + LINK_TTL)
    # the id and link go out by SMS: a re-run of this unit of work (app/integrations/answers.py) reuses them
    invitation.id = stable(session, f"invitation:{case.id}:{party_role}:{phone}", new_id)
    invitation.phone = phone
    rate_limit.hit(session, f"invite:case:{case.id}", PER_CASE)
    rate_limit.hit(session, f"invite:phone:{invitation.phone_bidx}", PER_PHONE)
    session.add(invitation)
    token = stable(session, f"invitation-token:{invitation.id}",
                   lambda: URLSafeTimedSerializer(secret, salt=_SALT).dumps({"inv": invitation.id}))
    link = f"{base_url.rstrip('/')}/invite/{token}"
    from app.catalog.service import definition_by_version

    type_name = definition_by_version(session, case.process_version_id).name or "不动产登记"
    send_sms(session, CallContext(actor_id=actor.user_id, case_id=case.id), phone, "case_invitation",
             {"business_type": type_name, "role": labels[party_role], "link": link})
    progress.add_event(session, case, kind=EventKind.INVITED, actor=actor,
                       message=f"已通过短信邀请{labels[party_role]}确认申请")
    audit.record(session, actor_id=actor.user_id, action="case.invite", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"invitation": invitation.id, "role": party_role})
    return SentInvitation(invitation, link)


def invitation_for_token(session: Session, secret: str, token: str) -> Invitation:
    """The invitation a link names; an altered, expired or unknown link is one clear answer."""
    try:
        data = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=int(LINK_TTL.total_seconds()))
    except SignatureExpired:
        raise NotFound("邀请链接已过期，请联系申请人重新发送", code="invitation_expired") from None
    except BadSignature:
        raise NotFound("邀请链接无效，请核对短信中的链接", code="invitation_invalid") from None
    invitation = session.execute(select(Invitation).where(Invitation.id == str(data.get("inv", ""))))\
        .scalar_one_or_none()
    if invitation is None:
        raise NotFound("邀请链接无效，请核对短信中的链接", code="invitation_invalid")
    return invitation


def open_invitation(session: Session, actor: Actor, invitation: Invitation) -> Case:
    """The invitee (signed in, verified) opens the case: only a party of it gets it."""
    case = session.execute(select(Case).where(Case.id == invitation.case_id)).scalar_one_or_none()
    if case is None:
        raise NotFound("该申请已撤回", code="case_not_found")
    if not is_party(actor, case):
        raise PermissionDenied("您的实名身份与该申请中的当事人不一致，无法查看。请联系申请人核对填写的姓名和证件号码",
                               code="not_a_party")
    if invitation.opened_at is None:
        invitation.opened_at, invitation.opened_by = utcnow(), actor.user_id
        audit.record(session, actor_id=actor.user_id, action="case.invitation_opened", object_type="case",
                     object_id=case.id, tenant_id=case.tenant_id, after={"invitation": invitation.id})
    return case
