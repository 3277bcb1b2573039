"""Department answers gathered outside the database transaction: no department call waits while the calling
transaction holds a lock (found: on SQLite one slow 公安 call blocked an unrelated read for 5.7 s; on PostgreSQL
a submission held the audit chain's head row through its remaining calls).

Every unit of work that may call a department — a web request (app/web.py), one item of a job, a CLI
command — runs through ``run_unit``. Inside it ``client.call``:

1. answers from this unit's *answers* when the same request was made before (a re-run, below);
2. otherwise, when the session has no uncommitted work (``app.db.has_uncommitted_work``: nothing written or
   locked, nothing pending), ends its read-only transaction and calls at once;
3. otherwise records the call as *wanted* and raises ``AnswerPending`` — a ``ServiceUnavailable``, so the
   callers take their "department down" path and one pass collects every call it would make. From then on
   the pass is *doomed* (``doomed``): its session stops autoflushing, so the records of that path wait
   unwritten until the rollback (issue 18), and a step may end it before writing its engine state
   (``discard_if_waiting`` as ``WorkflowRuntime``'s ``before_save``).

After a pass that wanted calls, ``run_unit`` rolls the transaction back, makes those calls with no
transaction open and runs the unit again with their answers: the usual case is one pass more (a pass whose
answers lead to further calls makes another; at most ``MAX_PASSES``). The pass that wants nothing is the one
whose result stands.

Each call is made once per unit — the log lines and breaker changes of a pass's calls are written right after
them, in one short transaction of their own (app/integrations/calllog.py) — and a re-run that sends the same
request gets the same answer, so an SMS is never sent twice. A request is identified by what is sent
(department, path, body, idempotency key); values that are part of a request and would differ between passes
(a random SMS code, an invitation token) come from ``stable``. Files follow the transaction
(app/casefile/storage.py), so a discarded pass leaves none.

A value that a call sends and that the unit takes from a shared counter (the 业务号 a submission pushes to
税务) must not change between passes: a pass's number is given back by its rollback, another submission may
take it before the next pass, and 税务 would hold this case's contract under the other case's number (found
by tests/integrations/test_concurrent_load.py). ``reserved`` takes such a value once per unit and commits it;
every later pass uses it. A pass that has written nothing yet takes it at once, in its own transaction, which
commits only that (and keeps the rows it read), and goes on to collect its calls; it is then re-run whatever
it wants, so the pass that stands reads afresh (a submission: two passes, the number taken in the first).
A pass that has written stops at the reservation, and the value is taken between passes in a short
transaction of its own. A unit that then fails for good leaves a gap in the numbers — the price of sending
them before the step commits.

Outside ``run_unit`` a call from a session with uncommitted work raises ``LockedCall``: a code path that would
call a department while holding locks fails loudly instead of blocking the platform.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json as jsonlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from app.db import _TX_CACHES, Database, has_uncommitted_work

if TYPE_CHECKING:
    from app.integrations.client import CallContext, Reply

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)
MAX_PASSES = 6
_KEY = "department_answers"


class LockedCall(RuntimeError):
    """A department was called from a transaction that holds locks, outside ``run_unit``: a programming
    error (the call would make every writer wait for the department)."""


@dataclass(frozen=True)
class CallRequest:
    """Everything ``client.call`` needs to make a call later, outside the transaction."""

    code: str
    operation: str
    method: str
    path: str
    ctx: CallContext
    summary: dict[str, Any]
    json: dict[str, Any] | None = None
    idempotency_key: str | None = None
    answers: tuple[int, ...] = (404, 422)
    content: tuple[bytes, str] | None = None

    def key(self) -> str:
        """What identifies the request: what is sent, not who asked (a re-run may carry new row ids in ``ctx``)."""
        sent = [self.code, self.method, self.path, self.json, self.idempotency_key, list(self.answers),
                base64.b64encode(self.content[0]).decode() if self.content else None]
        return hashlib.sha256(jsonlib.dumps(sent, sort_keys=True, ensure_ascii=False, default=str)
                              .encode()).hexdigest()


@dataclass
class Failure:
    """A call that got no usable answer: re-raised as ``ServiceUnavailable`` on every pass."""

    message: str
    code: str


@dataclass
class Answers:
    """One unit of work's calls: answers by request key, the calls the current pass still wants, and the
    values ``stable`` keeps across passes."""

    replies: dict[str, Reply | Failure] = field(default_factory=dict)
    wanted: dict[str, CallRequest] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    reservations: dict[str, Callable[[Session], Any]] = field(default_factory=dict)
    reserved_in_pass: dict[str, int] = field(default_factory=dict)
    rows: dict[tuple[type[Any], Any], dict[str, Any] | None] = field(default_factory=dict)  # ``read_once``
    taken: int = 0  # values reserved so far
    passes: int = 0
    stale: bool = False  # this pass took a value in-line (``reserved``): what it read before cannot stand
    doomed: bool = False  # this pass will be re-run: it flushes nothing more (``doomed``)

    def pending(self) -> bool:
        return bool(self.wanted or self.reservations or self.stale)


def answers_of(session: Session) -> Answers | None:
    return session.info.get(_KEY)


def stable(session: Session, name: str, make: Callable[[], T]) -> T:
    """``make()`` once per unit of work: a re-run gets the value of the first pass (a random code that goes
    into an SMS must be the one the SMS carried)."""
    answers = answers_of(session)
    if answers is None:
        return make()
    if name not in answers.values:
        answers.values[name] = make()
    return answers.values[name]


def doomed(session: Session, answers: Answers) -> None:
    """This pass will be re-run (it wants a department answer or took a value in-line): from now on its
    changes wait in the session instead of being flushed before each query, as they are rolled back unread
    (issue 18: a submission's collecting pass wrote its 未核验 records, events and messages only to undo them).
    Such a pass stands for nothing but the calls it wants."""
    answers.doomed = True
    session.autoflush = False


def read_once(session: Session, model: type[R], key: Any) -> R | None:
    """``session.get(model, key)`` read once per unit of work: a later pass gets the row of the first without
    a statement (issue 18: a submission read its office three times). Only for rows that are not changed by
    the unit itself and whose change while a request runs may count as made just after it (an office's
    name and whether it is enabled); never for what a rule is checked against."""
    answers = answers_of(session)
    if answers is None:
        return session.get(model, key)
    if (model, key) not in answers.rows:
        row = session.get(model, key)
        answers.rows[(model, key)] = None if row is None else {
            attr.key: getattr(row, attr.key) for attr in sa_inspect(model).column_attrs}
        return row
    values = answers.rows[(model, key)]
    if values is None:
        return None
    copy = sa_inspect(model).class_manager.new_instance()
    for name, value in values.items():
        set_committed_value(copy, name, value)
    make_transient_to_detached(copy)
    return session.merge(copy, load=False)


class PassDiscarded(RuntimeError):
    """Raised by ``discard_if_waiting``: this pass wants department answers and will be re-run, so the rest of
    it would be written only to be rolled back."""


def discard_if_waiting(session: Session) -> None:
    """End a pass early once the engine has run and the pass wants department answers (issue 18: the first
    pass of a submission wrote the workflow state, the tasks, the events and the audit entry only to roll them
    back). Call it after the last step that may call a department; a later call is found by the next pass."""
    answers = answers_of(session)
    if answers is not None and (answers.wanted or answers.stale):
        raise PassDiscarded("department answers wanted: the pass is re-run with them")


class ReservationPending(RuntimeError):
    """This pass stops here: ``run_unit`` takes the value between passes and runs the unit again."""


def reserved(session: Session, name: str, reserve: Callable[[Session], T]) -> T:
    """``reserve(s)`` committed in a transaction of its own, once per unit of work, and the same value on every
    pass (see the module's docstring). The n-th value of ``name`` a pass asks for is the n-th of the first pass
    (a court's entrustment files several cases in one request, with new row ids on each pass). Outside
    ``run_unit`` it runs in the caller's transaction, as before."""
    answers = answers_of(session)
    if answers is None:
        return reserve(session)
    nth = answers.reserved_in_pass.get(name, 0)
    answers.reserved_in_pass[name] = nth + 1
    name = f"reserved:{name}#{nth}"
    if name not in answers.values:
        if has_uncommitted_work(session):
            answers.reservations[name] = reserve
            raise ReservationPending(name)
        # Nothing written or locked yet: take the value now in this pass's transaction and commit it, which
        # writes nothing else and keeps the loaded rows, and let the pass go on to collect its department
        # calls; a later pass, reading afresh, is the one that stands (issue 18: a submission's first pass
        # stopped here, and a second pass read everything again only to collect the calls).
        kept = session.info.get(_TX_CACHES)
        answers.values[name] = reserve(session)
        session.commit()
        if kept is not None:  # what the pass read stays usable for the rest of it (a doomed pass: below)
            session.info[_TX_CACHES] = kept
        answers.taken += 1
        answers.stale = True
        doomed(session, answers)
    value: T = answers.values[name]
    return value


def _reserve(session: Session, reserve: Callable[[Session], Any]) -> Any:
    """Run ``reserve`` in a fresh session on ``session``'s engine and commit (no transaction of ``session`` is
    open: ``run_unit`` has rolled it back)."""
    with Session(bind=session.get_bind(), expire_on_commit=False) as fresh:
        value = reserve(fresh)
        fresh.commit()
    return value


def must_wait(session: Session) -> bool:
    """True when a call now would wait inside a transaction holding locks; otherwise the session's
    read-only transaction (if any) is ended so that none is open while the department answers."""
    if has_uncommitted_work(session):
        if answers_of(session) is None:
            raise LockedCall("department call inside a transaction that has written or locked rows; "
                             "run the unit of work through app.integrations.answers.run_unit")
        return True
    if session.in_transaction():
        session.rollback()  # nothing to lose; on SQLite this releases BEGIN IMMEDIATE's write lock
    return False


def run_unit(session: Session, work: Callable[[], T], *, before_rerun: Callable[[], None] | None = None) -> T:
    """Run ``work`` (which uses ``session`` and does not commit) until a pass wants no department call; the
    caller commits. ``before_rerun`` restores what a pass consumed outside the session (request streams)."""
    if answers_of(session) is not None:  # already inside a unit: the outer runner re-runs
        return work()
    from app.integrations.client import perform_all

    answers = Answers()
    session.info[_KEY] = answers
    autoflush = session.autoflush
    try:
        while True:
            answers.passes += 1
            answers.wanted.clear()
            answers.reservations.clear()
            answers.reserved_in_pass.clear()
            answers.stale = answers.doomed = False
            session.autoflush = autoflush
            try:
                result = work()
            except Exception:
                if not answers.pending():
                    raise
            else:
                if not answers.pending():
                    return result
            if answers.passes >= MAX_PASSES + answers.taken:  # each reserved value may cost one pass
                raise RuntimeError(f"department calls did not settle after {MAX_PASSES} passes: "
                                   + ", ".join(sorted(f"{r.code} {r.path}" for r in answers.wanted.values())))
            wanted = list(answers.wanted.items())
            found = _interfaces_before_rollback(session, [r for _, r in wanted])
            session.rollback()
            for name, reserve in list(answers.reservations.items()):
                answers.values[name] = _reserve(session, reserve)
                answers.taken += 1
            for (key, _), outcome in zip(wanted, perform_all(session, [r for _, r in wanted], found), strict=True):
                answers.replies[key] = outcome
            if before_rerun is not None:
                before_rerun()
    finally:
        session.info.pop(_KEY, None)
        session.autoflush = autoflush


def _interfaces_before_rollback(session: Session, requests: list[CallRequest]) -> dict[str, Any] | None:
    """The interface rows of the calls a pass wants, read in its transaction before it is rolled back (issue
    18: not in a transaction of their own); None when the pass cannot read any more (a failed statement),
    and the calls read them themselves."""
    if not requests:
        return None
    from app.integrations.client import interfaces_of

    try:
        return dict(interfaces_of(session, requests))
    except Exception:  # e.g. PostgreSQL's "current transaction is aborted": read after the rollback instead
        return None


def run_in_new_session(database: Database, work: Callable[[Session], T]) -> T:
    """A whole unit of work: a fresh session, ``run_unit``, one commit (jobs and CLI commands, per item)."""
    with database.unit_of_work() as session:
        return run_unit(session, lambda: work(session))


def each_in_own_transaction(session: Session, items: list[Any], work: Callable[[Any], T]) -> list[T]:
    """A job's loop: ``work(item)`` for each item as its own unit of work (``run_unit``), committed before
    the next (DESIGN.md §7: a job takes one case per transaction). An item that fails is rolled back and
    logged; the others go on. Returns the results of the items that committed."""
    if session.in_transaction():
        session.commit()  # what the caller did before (reading the items) is not part of any item
    results = []
    for item in items:
        try:
            result = run_unit(session, functools.partial(work, item))
            session.commit()
        except Exception:
            session.rollback()
            log.exception("job item %s failed; it is retried at the next run", item)
            continue
        results.append(result)
    return results
