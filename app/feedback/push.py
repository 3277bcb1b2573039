"""A rating on its way to the province's 好差评 system (interface ``haochaping``, topic ``feedback.rating``):
an outbox message written with the rating, so the push is at least once and never blocks the applicant."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.feedback.models import Rating
from app.feedback.scale import LEVELS
from app.integrations.models import OutboxMessage

TOPIC = "feedback.rating"


def queue_push(session: Session, rating: Rating) -> None:
    """No personal data leaves: the comment goes (the province shows it), the rater only as an opaque id."""
    session.add(OutboxMessage(
        topic=TOPIC, idempotency_key=f"rating:{rating.id}", tenant_id=rating.tenant_id,
        payload={"rating_id": rating.id, "business_no": rating.reference, "office": rating.tenant_id,
                 "business_type": rating.business_type_code, "stage": rating.stage, "level": rating.level,
                 "level_label": LEVELS[rating.level], "comment": rating.comment or "", "channel": rating.channel,
                 "rater": rating.rater_id, "rated_at": rating.created_at.isoformat()},
    ))
