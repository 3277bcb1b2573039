"""好差评 by SMS: once a service has ended, each person who can rate it gets a text with a signed link that
opens the rating form without signing in (the link is sent to the person's own verified phone and names its
row only). The link works once: a rating given (by the link or on the portal) closes it.

``send_due`` is a job (app/jobs.py): the cases that ended and the visits checked in within ``WINDOW``, one
service per unit of work, the SMS sent through the SMS adapter with the values it sends made ``stable``, so a
re-run of the unit never sends a second text."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.models import Appointment, Case
from app.db import new_id, utcnow
from app.errors import Conflict, NotFound
from app.feedback.models import Rating, RatingLink
from app.feedback.service import rate, rating_of
from app.feedback.subjects import Subject, subject_for_key
from app.identity.actor import actor_for
from app.identity.models import User
from app.integrations.adapters.services import send_sms
from app.integrations.answers import each_in_own_transaction, stable
from app.integrations.client import CallContext
from app.vocabulary import FINAL_STATUSES, AppointmentStatus, Channel, RatingChannel

LINK_TTL = timedelta(days=15)
WINDOW = timedelta(days=7)  # services that ended this recently are asked for a rating
_SALT = "feedback-link"


@dataclass(frozen=True)
class SentLink:
    link: RatingLink
    url: str


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def raters_of_case(session: Session, case: Case) -> list[User]:
    """The applicant and every party who confirmed with a verified account (whose phone is known)."""
    ids = {case.applicant_id, *(p.confirmed_by for p in case.parties if p.confirmed_by)}
    users = session.execute(select(User).where(User.id.in_(ids), User.kind.in_(("applicant", "institution")))
                            .order_by(User.username)).scalars()
    return [u for u in users if u.phone]


def due_subjects(session: Session) -> list[tuple[str, str]]:
    """(subject key, rater id) pairs that ended within ``WINDOW`` and have neither a link nor a rating yet."""
    since = utcnow() - WINDOW
    pairs: list[tuple[str, str]] = []
    cases = session.execute(select(Case).where(Case.status.in_(sorted(FINAL_STATUSES)), Case.completed_at >= since,
                                               Case.channel != Channel.INTERNAL)).scalars().all()
    for case in cases:
        pairs += [(f"case:{case.id}", u.id) for u in raters_of_case(session, case)]
    visits = session.execute(select(Appointment).where(Appointment.status == AppointmentStatus.CHECKED_IN,
                                                       Appointment.checked_in_at >= since)).scalars().all()
    pairs += [(f"appointment:{a.id}", a.user_id) for a in visits]
    if not pairs:
        return []
    asked = set(tuple(row) for row in session.execute(select(RatingLink.subject_key, RatingLink.rater_id).where(
        RatingLink.subject_key.in_({k for k, _ in pairs}))).all())
    rated = set(tuple(row) for row in session.execute(select(Rating.subject_key, Rating.rater_id).where(
        Rating.subject_key.in_({k for k, _ in pairs}))).all())
    return [p for p in pairs if p not in asked and p not in rated]


def send_link(session: Session, subject: Subject, rater: User, *, secret: str, base_url: str) -> SentLink:
    link = RatingLink(subject_key=subject.key, rater_id=rater.id, tenant_id=subject.tenant_id,
                      expires_at=utcnow() + LINK_TTL)
    link.id = stable(session, f"feedback-link:{subject.key}:{rater.id}", new_id)
    session.add(link)
    token = stable(session, f"feedback-token:{link.id}", lambda: _serializer(secret).dumps({"l": link.id}))
    url = f"{base_url.rstrip('/')}/feedback/{token}"
    send_sms(session, CallContext(actor_id=None, case_id=subject.case_id, business_no=subject.reference),
             rater.phone or "", "feedback_invitation", {"reference": subject.reference, "link": url})
    return SentLink(link, url)


def send_due(session: Session, *, secret: str, base_url: str, limit: int = 200) -> int:
    """The job: text a rating link for each service due (one per unit of work); returns how many were sent."""
    def one(pair: tuple[str, str]) -> bool:
        key, rater_id = pair
        rater = session.get(User, rater_id)
        if rater is None or not rater.phone:
            return False
        send_link(session, subject_for_key(session, key), rater, secret=secret, base_url=base_url)
        return True

    return sum(each_in_own_transaction(session, due_subjects(session)[:limit], one))


def link_for_token(session: Session, secret: str, token: str) -> RatingLink:
    """The link's row; an altered, expired, unknown or used link is one clear answer each."""
    try:
        data = _serializer(secret).loads(token, max_age=int(LINK_TTL.total_seconds()))
    except SignatureExpired:
        raise NotFound("评价链接已过期，请登录网站在业务页面评价", code="link_expired") from None
    except BadSignature:
        raise NotFound("评价链接无效，请核对短信中的链接", code="link_invalid") from None
    link = session.execute(select(RatingLink).where(RatingLink.id == str(data.get("l", "")))
                           .execution_options(all_tenants=True)).scalar_one_or_none()
    if link is None:
        raise NotFound("评价链接无效，请核对短信中的链接", code="link_invalid")
    if link.used_at is not None or rating_of(session, link.subject_key, link.rater_id) is not None:
        raise Conflict("该评价链接已使用，每项服务只能评价一次", code="link_used")
    return link


def rate_by_link(session: Session, link: RatingLink, *, level: Any, comment: Any) -> Rating:
    rater = session.get(User, link.rater_id)
    if rater is None:
        raise NotFound("评价链接无效，请核对短信中的链接", code="link_invalid")
    rating = rate(session, actor_for(session, rater), subject_for_key(session, link.subject_key),
                  level=level, comment=comment, channel=RatingChannel.SMS)
    link.used_at = utcnow()
    return rating


def link_subject(session: Session, link: RatingLink) -> dict[str, Any]:
    """What the link's page shows: the service's reference and how it ended."""
    subject = subject_for_key(session, link.subject_key)
    return {"reference": subject.reference, "stage": subject.stage}


__all__ = ["SentLink", "due_subjects", "link_for_token", "link_subject", "rate_by_link", "send_due",
           "send_link"]
