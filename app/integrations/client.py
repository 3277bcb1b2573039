"""The one HTTP path to other departments: endpoint, credential, timeout and retry policy from the
``Interface`` row; bounded retries; a database-held circuit breaker; a call log line for every call.

A request thread is never blocked for long: each attempt has the interface's timeout, retries are few and
their back-off is capped, and an open breaker answers at once with ``ServiceUnavailable`` (503,
“服务暂不可用，请稍后重试”).

A call never waits inside the caller's transaction while it holds locks: inside a unit of work that has
written, the call is deferred and the unit re-run with the answer (app/integrations/answers.py).
"""
from __future__ import annotations

import json as jsonlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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


@dataclass(frozen=True)
class PeerRoute:
    """A subscriber that is another platform (the province above a city, the national platform above a
    province): its address and the signature headers of a request to it (method, path, body) — no bearer key."""

    url: str
    sign: Callable[[str, str, bytes], dict[str, str]]


PeerRouter = Callable[[Any, str], "PeerRoute | None"]  # (engine, interface code) → route, or None: as configured
_peer_routers: list[PeerRouter] = []


def register_peer_router(router: PeerRouter) -> None:
    """app/federation registers how an interface that is a peer platform is reached (it knows the keys and the
    trust store; this layer does not). Idempotent: one router per function, whatever the number of apps."""
    if router not in _peer_routers:
        _peer_routers.append(router)


def _peer_route(engine: Any, code: str) -> PeerRoute | None:
    for router in _peer_routers:
        route = router(engine, code)
        if route is not None:
            return route
    return None


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
    routes = {r.code: _peer_route(engine, r.code) for r in requests}  # here: the routers read the app's settings
    if len(requests) == 1:
        done = [_perform_one(found.get(requests[0].code), requests[0], routes[requests[0].code])]
    else:  # a pass's calls do not depend on each other (each was wanted while the others were unanswered)
        with ThreadPoolExecutor(max_workers=min(len(requests), MAX_PARALLEL_CALLS)) as pool:
            done = list(pool.map(lambda r: _perform_one(found.get(r.code), r, routes[r.code]), requests))
    calllog.record_all(engine, [(log, breaker) for _, log, breaker in done])
    return [outcome for outcome, _, _ in done]


def _perform_one(iface: Interface | None, request: CallRequest, route: PeerRoute | None = None
                 ) -> tuple[Reply | Failure, InterfaceCallLog, bool | None]:
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
    reply, error, status = _exchange(iface, request, log, trial, route)
    log.latency_ms, log.http_status = int((time.monotonic() - started) * 1000), status
    if reply is not None:
        log.outcome, log.error = "ok", None
        return reply, log, True
    log.outcome = "timeout" if error == "timeout" else "error"
    log.error = error
    return unavailable, log, False


def _exchange(iface: Interface, request: CallRequest, log: InterfaceCallLog, trial: bool,
              route: PeerRoute | None = None) -> tuple[Reply | None, str | None, int | None]:
    """The HTTP exchange with its bounded retries: ``(reply, error, last status)``. A peer platform (``route``)
    gets the JSON body as signed bytes and the signature headers instead of the bearer key; each attempt is
    signed afresh (a new nonce: the receiver refuses a replayed one)."""
    headers = {"Authorization": f"Bearer {iface.credential or ''}", "Accept": "application/json"}
    content = request.content
    url = iface.base_url.rstrip("/") + request.path
    signed_body = None
    if route is not None:
        url, signed_body = route.url, jsonlib.dumps(request.json, ensure_ascii=False, separators=(",", ":")).encode()
        del headers["Authorization"]
        headers["Content-Type"] = "application/json"
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
            if route is not None and signed_body is not None:
                signed = {**headers, **route.sign(request.method, _signed_path(url), signed_body)}
                resp = client.request(request.method, url, content=signed_body, headers=signed, timeout=timeout)
            else:
                resp = client.request(request.method, url, json=request.json, headers=headers, timeout=timeout,
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


def _signed_path(url: str) -> str:
    """The path (and query) the receiver sees: what a peer's signature covers."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
