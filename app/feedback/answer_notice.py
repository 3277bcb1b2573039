"""The rater is texted when his 差评's follow-up is answered (the follow-up case reached its end, 已答复): the
answer is on the portal (``follow_up_view``), the text tells him it is there. Once only: ``answer_texted_at``
on the rating is set in the unit of work that sends the SMS, whose sent values are made ``stable`` (a re-run of
the unit never sends a second text); a job (app/jobs.py ``rating_links``) sends the ones due, like the rating
links (app/feedback/links.py)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.models import Case
from app.db import utcnow
from app.feedback.models import Rating
from app.identity.models import User
from app.integrations.adapters.services import send_sms
from app.integrations.answers import each_in_own_transaction
from app.integrations.client import CallContext
from app.security import audit
from app.vocabulary import FINAL_STATUSES

TEMPLATE = "feedback_answered"


def answers_due(session: Session, limit: int = 200) -> list[str]:
    """Ratings whose follow-up ended and whose rater was not texted yet, oldest first."""
    return list(session.execute(
        select(Rating.id).join(Case, Case.id == Rating.follow_up_case_id)
        .where(Rating.answer_texted_at.is_(None), Case.status.in_(sorted(FINAL_STATUSES)))
        .order_by(Case.completed_at).limit(limit).execution_options(all_tenants=True)).scalars())


def text_answer(session: Session, rating_id: str) -> bool:
    """Text one rater (in the caller's unit of work); False when already texted or he has no phone."""
    rating = session.execute(select(Rating).where(Rating.id == rating_id, Rating.answer_texted_at.is_(None))
                             .execution_options(all_tenants=True)).scalar_one_or_none()
    if rating is None:
        return False
    follow_up = session.execute(select(Case).where(Case.id == rating.follow_up_case_id)
                                .execution_options(all_tenants=True)).scalar_one()
    rater = session.get(User, rating.rater_id)
    rating.answer_texted_at = utcnow()  # a rater without a phone is not asked again either
    if rater is None or not rater.phone:
        return False
    send_sms(session, CallContext(actor_id=None, case_id=follow_up.id, business_no=rating.reference),
             rater.phone, TEMPLATE, {"reference": rating.reference, "follow_up_no": follow_up.business_no or ""})
    audit.record(session, actor_id=None, action="feedback.answer_texted", object_type="feedback_rating",
                 object_id=rating.id, tenant_id=rating.tenant_id,
                 after={"reference": rating.reference, "follow_up": follow_up.business_no})
    return True


def send_answers_due(session: Session, limit: int = 200) -> int:
    """The job's part: text each rater whose follow-up was answered (one per unit of work); how many were sent."""
    return sum(each_in_own_transaction(session, answers_due(session, limit), lambda rid: text_answer(session, rid)))
