"""The progress timeline: one CaseEvent per step and, in the same transaction, an outbox message that
announces it to subscribers (SMS, the provincial platform …)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import event as orm_events
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import QueryContext, Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from app.casefile.event_messages import message_of, message_to_store
from app.casefile.models import Case, CaseEvent
from app.casefile.status import status_label
from app.db import transaction_cache, utcnow
from app.identity.actor import Actor
from app.integrations.answers import answers_of
from app.integrations.models import OutboxMessage
from app.vocabulary import Channel, EventKind

_SEQ_FRESH = "case_last_event_seq_read"  # transaction cache: cases this transaction read under their lock


@orm_events.listens_for(Case, "load")
def _case_loaded(case: Case, context: QueryContext) -> None:
    if getattr(context.query, "_for_update_arg", None) is not None:  # read under its lock (a step's case)
        transaction_cache(context.session, _SEQ_FRESH)[case.id] = True


@orm_events.listens_for(Case, "refresh")
def _case_refreshed(case: Case, context: QueryContext, attrs: frozenset[str] | None) -> None:
    if (attrs is None or "last_event_seq" in attrs) and getattr(context.query, "_for_update_arg", None) is not None:
        transaction_cache(context.session, _SEQ_FRESH)[case.id] = True


@orm_events.listens_for(Session, "transient_to_pending")
def _case_added(session: Session, instance: object) -> None:
    if isinstance(instance, Case):
        transaction_cache(session, _SEQ_FRESH)[instance.ensure_id()] = True


_NUMBERS = "case_event_numbers"  # session.info: case id → (case, its last event's number in this transaction)


def _unwritten(session: Session) -> list[tuple[Case, int]]:
    numbers: dict[str, tuple[Case, int]] = session.info.get(_NUMBERS) or {}
    return [(case, last) for case, last in numbers.values()
            if inspect(case).dict.get("last_event_seq") != last]


@orm_events.listens_for(Session, "before_flush")
def _number_on_the_case_update(session: Session, _context: object, _instances: object) -> None:
    """A case this flush inserts or updates anyway carries its number (no UPDATE of its own)."""
    for case, last in _unwritten(session):
        if case in session.new or case in session.dirty:
            case.last_event_seq = last


def _number_at_commit(session: Session) -> None:
    """What no flush carried is written by the commit's last flush, before the audit chain's head is locked
    (listened first, ``insert=True``: the house lock order is case → … → audit head)."""
    for case, last in _unwritten(session):
        case.last_event_seq = last


orm_events.listen(Session, "before_commit", _number_at_commit, insert=True)


@orm_events.listens_for(Session, "after_transaction_end")
def _forget_numbers(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_NUMBERS, None)


def add_event(session: Session, case: Case, *, kind: EventKind, actor: Actor | None, message: str,
              stage: str | None = None, decision: str | None = None, actor_role: str | None = None) -> CaseEvent:
    # The case row keeps its last event's number (issue 18: no SELECT max(seq) per event). A case this transaction
    # read under its lock (or inserts) gives it as read; any other takes it by one UPDATE … RETURNING (another
    # request may add an event meanwhile: the 完税 callback). Counted on in ``session.info`` for the rest of the
    # transaction, it rides on an UPDATE of the case the step makes anyway, or is written alone at commit.
    numbers: dict[str, tuple[Case, int]] = session.info.setdefault(_NUMBERS, {})
    if case.id in numbers:
        last = numbers[case.id][1]
    elif case.id in transaction_cache(session, _SEQ_FRESH) or not inspect(case).persistent or _doomed(session):
        last = case.last_event_seq or 0
    else:  # not locked by this transaction: take the number atomically (and the case's lock with it)
        with session.no_autoflush:  # the case's own changes go with it; the step's other rows wait for the flush
            changed = _changed_columns(case)
            taken = session.execute(update(Case).where(Case.id == case.id)
                                    .values(last_event_seq=Case.last_event_seq + 1, **changed)
                                    .returning(Case.last_event_seq)
                                    .execution_options(synchronize_session=False)).scalar_one()
        for name, value in {**changed, "last_event_seq": taken}.items():
            set_committed_value(case, name, value)
        last = taken - 1
    numbers[case.id] = (case, last + 1)
    event = CaseEvent(case_id=case.id, tenant_id=case.tenant_id, seq=last + 1, kind=kind, stage=stage,
                      status=case.status, decision=decision, actor_id=actor.user_id if actor else None,
                      actor_role=actor_role, at=utcnow(),
                      message=message_to_store(kind, stage, decision, case.business_no, message))
    session.add(event)
    # Drafts are private to the applicant: nothing to announce yet; a case the platform opened for itself (a
    # 差评's follow-up, app/feedback) is the office's own work, not a registration the subscribers follow.
    if case.business_no and case.channel != Channel.INTERNAL:
        session.add(OutboxMessage(
            topic="case.progress", idempotency_key=f"progress:{case.id}:{event.seq}", tenant_id=case.tenant_id,
            payload={"business_no": case.business_no, "business_type": case.business_type_code,
                     "seq": event.seq, "kind": kind, "stage": stage, "status": case.status,
                     "status_label": status_label(case.status), "decision": decision,
                     "message": message, "at": event.at.isoformat(),
                     # where the case began when another platform sent it: the levels above follow it by this
                     **({"origin": case.origin_code, "ref": case.origin_ref} if case.origin_ref else {})},
        ))
    return event


def _changed_columns(case: Case) -> dict[str, Any]:
    """The case's columns set in this transaction and not yet written: the UPDATE that takes the event number
    writes them too (issue 18: a submission updated its case, then took the number by a second UPDATE)."""
    state = inspect(case)
    changed = {}
    for column in state.mapper.column_attrs:
        added = state.attrs[column.key].history.added
        if added:
            changed[column.key] = added[0]
    return changed


def _doomed(session: Session) -> bool:
    """A pass that will be rolled back and re-run (app/integrations/answers.py doomed): its events are never
    written, so their numbers need not be taken from the row (a submission's first pass took one for its
    未核验 record: a write, in a pass that writes nothing else)."""
    answers = answers_of(session)
    return answers is not None and answers.doomed


def timeline(session: Session, case: Case) -> list[dict[str, Any]]:
    events = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.seq)).scalars().all()
    return [{"seq": e.seq, "kind": e.kind, "stage": e.stage, "status": e.status,
             "status_label": status_label(e.status), "decision": e.decision, "actor_role": e.actor_role,
             "message": message_of(e, case.business_no), "at": e.at.isoformat()} for e in events]
