"""The progress timeline: one CaseEvent per step and, in the same transaction, an outbox message that
announces it to subscribers (SMS, the provincial platform …)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import event as orm_events
from sqlalchemy import inspect, select
from sqlalchemy.orm import QueryContext, Session

from app.casefile.models import Case, CaseEvent
from app.casefile.status import status_label
from app.db import transaction_cache, utcnow
from app.identity.actor import Actor
from app.integrations.models import OutboxMessage
from app.vocabulary import EventKind

_SEQ_FRESH = "case_last_event_seq_read"  # transaction cache: cases whose last_event_seq this transaction read


@orm_events.listens_for(Case, "load")
def _case_loaded(case: Case, context: QueryContext) -> None:
    transaction_cache(context.session, _SEQ_FRESH)[case.id] = True


@orm_events.listens_for(Case, "refresh")
def _case_refreshed(case: Case, context: QueryContext, attrs: frozenset[str] | None) -> None:
    if attrs is None or "last_event_seq" in attrs:
        transaction_cache(context.session, _SEQ_FRESH)[case.id] = True


@orm_events.listens_for(Session, "transient_to_pending")
def _case_added(session: Session, instance: object) -> None:
    if isinstance(instance, Case):
        transaction_cache(session, _SEQ_FRESH)[instance.ensure_id()] = True


def add_event(session: Session, case: Case, *, kind: EventKind, actor: Actor | None, message: str,
              stage: str | None = None, decision: str | None = None, actor_role: str | None = None) -> CaseEvent:
    # The case row keeps its last event's number; the step's own UPDATE of the case carries the new one, so no
    # event reads max(seq) (issue 18). The number is taken as this transaction read (or inserted) the row; a
    # case object carried over from an earlier transaction (sessions keep objects across commits) is re-read.
    if case.id not in transaction_cache(session, _SEQ_FRESH) and inspect(case).persistent:
        session.refresh(case, ["last_event_seq"])
    last = case.last_event_seq or 0
    case.last_event_seq = last + 1
    event = CaseEvent(case_id=case.id, tenant_id=case.tenant_id, seq=last + 1, kind=kind, stage=stage,
                      status=case.status, decision=decision, actor_id=actor.user_id if actor else None,
                      actor_role=actor_role, message=message[:500], at=utcnow())
    session.add(event)
    if case.business_no:  # drafts are private to the applicant: nothing to announce yet
        session.add(OutboxMessage(
            topic="case.progress", idempotency_key=f"progress:{case.id}:{event.seq}", tenant_id=case.tenant_id,
            payload={"business_no": case.business_no, "business_type": case.business_type_code,
                     "seq": event.seq, "kind": kind, "stage": stage, "status": case.status,
                     "status_label": status_label(case.status), "decision": decision,
                     "message": event.message, "at": event.at.isoformat()},
        ))
    return event


def timeline(session: Session, case: Case) -> list[dict[str, Any]]:
    events = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.seq)).scalars().all()
    return [{"seq": e.seq, "kind": e.kind, "stage": e.stage, "status": e.status,
             "status_label": status_label(e.status), "decision": e.decision, "actor_role": e.actor_role,
             "message": e.message, "at": e.at.isoformat()} for e in events]
