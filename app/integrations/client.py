"""The one HTTP path to other departments: endpoint, credential, timeout and retry policy from the
``Interface`` row; bounded retries; a database-held circuit breaker; a call log line for every call.

A request thread is never blocked for long: each attempt has the interface's timeout, retries are few and
their back-off is capped, and an open breaker answers at once with ``ServiceUnavailable`` (503,
“服务暂不可用，请稍后重试”).

A call never waits inside the caller's transaction while it holds locks: inside a unit of work that has
written, the call is deferred and the unit re-run with the answer (app/integrations/answers.py).
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import DomainError
from app.integrations import calllog
from app.integrations.answers import CallRequest, Failure, answers_of, doomed, must_wait
from app.integrations.models import Interface, InterfaceCallLog

MAX_BACKOFF_S = 1.0
MAX_PARALLEL_CALLS = 8


class ServiceUnavailable(DomainError):
    """A department cannot be reached now (down, too slow, breaker open). Nothing was changed; retry later."""

    status = 503
    code = "service_unavailable"


@dataclass(frozen=True)
class CallContext:
    """Who is calling for which case — what the call log records besides the request summary."""

    actor_id: str | None = None
    case_id: str | None = None
    business_no: str | None = None


@dataclass(frozen=True)
class Reply:
    status: int
    data: dict[str, Any]
    content: bytes = b""  # the raw body, for calls that send ``content`` (not JSON)


_shared: list[httpx.Client] = []
_shared_lock = threading.Lock()


def _client() -> httpx.Client:
    """One pooled client per process: creating a client builds an SSL context (~0.1–0.3 s), far more than
    a call to a nearby department takes. Connection pools are plumbing, not business state."""
    if not _shared:
        with _shared_lock:  # the calls of a batch run in threads (``perform_all``)
            if not _shared:
                _shared.append(httpx.Client(follow_redirects=False, limits=httpx.Limits(max_connections=50)))
    return _shared[0]


def call(session: Session, code: str, operation: str, method: str, path: str, *, ctx: CallContext,
         summary: dict[str, Any], json: dict[str, Any] | None = None, idempotency_key: str | None = None,
         answers: tuple[int, ...] = (404, 422), content: tuple[bytes, str] | None = None) -> Reply:
    """Call ``code``'s ``path``. 2xx and the business answers in ``answers`` (e.g. 404 “no such contract”)
    are replies; anything else after the retries raises ``ServiceUnavailable``. ``summary`` goes to the call
    log and must not contain personal data. ``content`` (body, media type) sends raw bytes instead of JSON
    and returns the raw reply (RFC 3161 time-stamp requests).

    Never while ``session`` holds locks: inside a unit of work that has written, the call is deferred and the
    unit re-run with its answer (app/integrations/answers.py)."""
    request = CallRequest(code, operation, method, path, ctx, summary, json, idempotency_key, answers, content)
    known, key = answers_of(session), request.key()
    if known is not None and key in known.replies:
        return _outcome(known.replies[key])
    if must_wait(session):
        assert known is not None
        known.wanted[key] = request
        doomed(session, known)
        raise AnswerPending("部门服务暂不可用，请稍后重试")
    outcome = perform(session, request)
    if known is not None:
        known.replies[key] = outcome
    return _outcome(outcome)


class AnswerPending(ServiceUnavailable):
    """The call is made after this pass, outside its transaction; the pass goes on as if the department were
    down so that it collects every call it needs, and is then discarded."""


def _outcome(outcome: Reply | Failure) -> Reply:
    if isinstance(outcome, Failure):
        raise ServiceUnavailable(outcome.message, code=outcome.code)
    return outcome


def perform(session: Session, request: CallRequest) -> Reply | Failure:
    """Make one call now (``perform_all`` with one request)."""
    return perform_all(session, [request])[0]


def interfaces_of(session: Session, requests: list[CallRequest]) -> dict[str, Interface]:
    """The interface rows the requests go to, detached from ``session`` (read before its transaction ends)."""
    codes = sorted({r.code for r in requests})
    found = {i.code: i for i in session.execute(select(Interface).where(Interface.code.in_(codes))).scalars()}
    for iface in found.values():
        session.expunge(iface)
    return found


def perform_all(session: Session, requests: list[CallRequest],
                found: dict[str, Interface] | None = None) -> list[Reply | Failure]:
    """Make the calls now — ``session`` has no transaction open — and record their log
    lines and breaker changes in one short transaction of their own, kept whatever becomes of the caller's.
    The interface rows are read once for all of them (issue 18: five statements per call became five per
    batch of calls) — ``found``: already read, by the pass that wanted the calls, just before it ended —
    and the calls of a batch are made side by side: the pass waits for the slowest department, not for the
    sum of them."""
    if not requests:  # a pass that only reserved a value (answers.reserved) wants no call
        return []
    engine = session.get_bind()
    if found is None:
        with Session(bind=engine) as fresh:
            found = interfaces_of(fresh, requests)
    if len(requests) == 1:
        done = [_perform_one(found.get(requests[0].code), requests[0])]
    else:  # a pass's calls do not depend on each other (each was wanted while the others were unanswered)
        with ThreadPoolExecutor(max_workers=min(len(requests), MAX_PARALLEL_CALLS)) as pool:
            done = list(pool.map(lambda r: _perform_one(found.get(r.code), r), requests))
    calllog.record_all(engine, [(log, breaker) for _, log, breaker in done])
    return [outcome for outcome, _, _ in done]


def _perform_one(iface: Interface | None, request: CallRequest) -> tuple[Reply | Failure, InterfaceCallLog,
                                                                         bool | None]:
    """One call: its outcome, its log line and the breaker outcome (True success, False failure, None none)."""
    started, now = time.monotonic(), utcnow()
    log = InterfaceCallLog(interface_code=request.code, operation=request.operation, actor_id=request.ctx.actor_id,
                           case_id=request.ctx.case_id, business_no=request.ctx.business_no,
                           request_summary=request.summary, at=now, attempts=0)
    log.ensure_id()
    if iface is None or not iface.enabled:
        log.outcome, log.error = "rejected", "interface not configured or disabled"
        return Failure("该部门接口未配置或已停用，请联系管理员", "interface_disabled"), log, None
    unavailable = Failure(f"{iface.name}服务暂不可用，请稍后重试", ServiceUnavailable.code)
    allowed, trial = calllog.breaker_allows(iface, now)
    if not allowed:
        log.outcome, log.error = "short_circuit", "circuit breaker open"
        return unavailable, log, None
    reply, error, status = _exchange(iface, request, log, trial)
    log.latency_ms, log.http_status = int((time.monotonic() - started) * 1000), status
    if reply is not None:
        log.outcome, log.error = "ok", None
        return reply, log, True
    log.outcome = "timeout" if error == "timeout" else "error"
    log.error = error
    return unavailable, log, False


def _exchange(iface: Interface, request: CallRequest, log: InterfaceCallLog,
              trial: bool) -> tuple[Reply | None, str | None, int | None]:
    """The HTTP exchange with its bounded retries: ``(reply, error, last status)``."""
    headers = {"Authorization": f"Bearer {iface.credential or ''}", "Accept": "application/json"}
    content = request.content
    if content is not None:
        headers["Content-Type"] = headers["Accept"] = content[1]
    if request.idempotency_key:
        headers["Idempotency-Key"] = request.idempotency_key
    attempts = 1 if trial else 1 + max(0, iface.max_retries)
    error, status = None, None
    client, timeout = _client(), iface.timeout_ms / 1000
    for attempt in range(attempts):
        log.attempts = attempt + 1
        try:
            resp = client.request(request.method, iface.base_url.rstrip("/") + request.path, json=request.json,
                                  headers=headers, timeout=timeout,
                                  content=content[0] if content is not None else None)
            status = resp.status_code
            if content is not None and 200 <= status < 300:
                return Reply(status, {}, resp.content), None, status
            if 200 <= status < 300 or status in request.answers:
                body = resp.json() if resp.content else {}
                return Reply(status, body if isinstance(body, dict) else {"items": body}), None, status
            error = f"HTTP {status}"
        except httpx.TimeoutException:
            error = "timeout"
        except (httpx.HTTPError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        if attempt + 1 < attempts:
            time.sleep(min(0.1 * 2 ** attempt, MAX_BACKOFF_S))
    return None, error, status
