"""The progress timeline: one CaseEvent per step and, in the same transaction, an outbox message that
announces it to subscribers (SMS, the provincial platform …)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.casefile.event_messages import message_of, message_to_store
from app.casefile.models import Case, CaseEvent
from app.casefile.status import status_label
from app.db import transaction_cache, utcnow
from app.identity.actor import Actor
from app.integrations.models import OutboxMessage
from app.vocabulary import EventKind


def add_event(session: Session, case: Case, *, kind: EventKind, actor: Actor | None, message: str,
              stage: str | None = None, decision: str | None = None, actor_role: str | None = None) -> CaseEvent:
    # The case's last seq is read once per transaction: a step adds several events (submit: up to 5).
    last_seq = transaction_cache(session, "case_event_seq")
    if case.id not in last_seq:
        last_seq[case.id] = session.execute(select(func.max(CaseEvent.seq))
                                            .where(CaseEvent.case_id == case.id)).scalar() or 0
    last = last_seq[case.id]
    last_seq[case.id] = last + 1
    message = message[:500]  # a standard text is not stored (event_messages.py)
    event = CaseEvent(case_id=case.id, tenant_id=case.tenant_id, seq=last + 1, kind=kind, stage=stage,
                      status=case.status, decision=decision, actor_id=actor.user_id if actor else None,
                      actor_role=actor_role, at=utcnow(),
                      message=message_to_store(kind, stage, decision, case.business_no, message))
    session.add(event)
    if case.business_no:  # drafts are private to the applicant: nothing to announce yet
        session.add(OutboxMessage(
            topic="case.progress", idempotency_key=f"progress:{case.id}:{event.seq}", tenant_id=case.tenant_id,
            payload={"business_no": case.business_no, "business_type": case.business_type_code,
                     "seq": event.seq, "kind": kind, "stage": stage, "status": case.status,
                     "status_label": status_label(case.status), "decision": decision,
                     "message": message, "at": event.at.isoformat()},
        ))
    return event


def timeline(session: Session, case: Case) -> list[dict[str, Any]]:
    events = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.seq)).scalars().all()
    return [{"seq": e.seq, "kind": e.kind, "stage": e.stage, "status": e.status,
             "status_label": status_label(e.status), "decision": e.decision, "actor_role": e.actor_role,
             "message": message_of(e, case.business_no), "at": e.at.isoformat()} for e in events]
