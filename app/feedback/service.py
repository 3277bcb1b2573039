"""Rating a service: once per service and person, on the portal, by the SMS link or over the API. A 差评 opens
its follow-up in the same transaction; every rating is queued for the province's 好差评 system."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.casefile.access import is_party
from app.casefile.models import Appointment, Case
from app.db import utcnow
from app.errors import Conflict, NotFound, PermissionDenied
from app.feedback import followups, push
from app.feedback.models import Rating
from app.feedback.scale import LEVELS, is_bad, parse_comment, parse_level
from app.feedback.subjects import Subject, appointment_subject, case_subject
from app.identity.actor import Actor
from app.identity.models import User
from app.security import audit

CHANNELS = ("portal", "sms", "api")


def rating_of(session: Session, subject_key: str, rater_id: str) -> Rating | None:
    return session.execute(select(Rating).where(Rating.subject_key == subject_key, Rating.rater_id == rater_id)
                           .execution_options(all_tenants=True)).scalar_one_or_none()


def rate(session: Session, actor: Actor, subject: Subject, *, level: Any, comment: Any, channel: str) -> Rating:
    """Record ``actor``'s rating of ``subject``. Raises ``ValidationFailed`` naming ``level`` or ``comment``,
    ``Conflict`` (already rated)."""
    value, text = parse_level(level), parse_comment(comment)
    if not actor.user_id:
        raise PermissionDenied("请先登录后再评价", code="login_required")
    if rating_of(session, subject.key, actor.user_id) is not None:
        raise Conflict("您已评价过该服务，每项服务只能评价一次", code="already_rated")
    rating = Rating(subject_key=subject.key, case_id=subject.case_id, appointment_id=subject.appointment_id,
                    reference=subject.reference, business_type_code=subject.business_type_code, stage=subject.stage,
                    clerk_id=subject.clerk_id, rater_id=actor.user_id, level=value, channel=channel,
                    tenant_id=subject.tenant_id, created_at=utcnow())
    rating.ensure_id()
    rating.comment = text or None
    try:  # the unique key decides between two submissions of the same person at the same moment
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError:
        raise Conflict("您已评价过该服务，每项服务只能评价一次", code="already_rated") from None
    if is_bad(value):
        rater = session.get(User, actor.user_id)
        assert rater is not None
        followups.open_follow_up(session, actor, rating, subject, rater)
    push.queue_push(session, rating)
    audit.record(session, actor_id=actor.user_id, action="feedback.rate", object_type=subject.key.split(":")[0],
                 object_id=subject.case_id or subject.appointment_id, tenant_id=subject.tenant_id,
                 after={"rating": rating.id, "level": value, "channel": channel,
                        "follow_up": rating.follow_up_case_id})
    return rating


def rate_case(session: Session, actor: Actor, case: Case, *, level: Any, comment: Any, channel: str) -> Rating:
    """A party (or the applicant) of the case rates it once it has ended."""
    if not is_party(actor, case):
        raise PermissionDenied("只有本业务的申请人可以评价", code="not_a_party")
    return rate(session, actor, case_subject(session, case), level=level, comment=comment, channel=channel)


def rate_appointment(session: Session, actor: Actor, appointment_id: str, *, level: Any, comment: Any,
                     channel: str) -> Rating:
    """The applicant rates the window service of a visit he booked, once he came (checked in)."""
    appointment = session.execute(select(Appointment).where(Appointment.id == appointment_id,
                                                            Appointment.user_id == actor.user_id)
                                  .execution_options(all_tenants=True)).scalar_one_or_none()
    if appointment is None:
        raise NotFound("预约不存在", code="appointment_not_found")
    return rate(session, actor, appointment_subject(session, appointment), level=level, comment=comment,
                channel=channel)


def levels_given(session: Session, actor: Actor, appointments: list[Appointment]) -> dict[str, str]:
    """Appointment id → the label of the rating ``actor`` gave its visit (the appointments page)."""
    keys = {f"appointment:{a.id}": a.id for a in appointments}
    if not keys or not actor.user_id:
        return {}
    rows = session.execute(select(Rating.subject_key, Rating.level).where(
        Rating.subject_key.in_(sorted(keys)), Rating.rater_id == actor.user_id).execution_options(all_tenants=True))
    return {keys[key]: LEVELS[level] for key, level in rows}


def rating_panel(session: Session, actor: Actor, case: Case) -> dict[str, Any] | None:
    """The case page's 好差评 panel for a party: None while the case runs; else the form or the rating given
    (with a 差评's follow-up and its answer)."""
    if not actor.user_id or not is_party(actor, case):
        return None
    try:
        subject = case_subject(session, case)
    except Conflict:
        return None
    rating = rating_of(session, subject.key, actor.user_id)
    if rating is None:
        return {"may_rate": True, "levels": LEVELS}
    return {"may_rate": False, "levels": LEVELS, "level": rating.level, "level_label": LEVELS[rating.level],
            "comment": rating.comment, "at": rating.created_at, "follow_up": followups.follow_up_view(session, rating)}
