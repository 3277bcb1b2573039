"""The one HTTP path to other departments: endpoint, credential, timeout and retry policy from the
``Interface`` row; bounded retries; a database-held circuit breaker; a call log line for every call.

A request thread is never blocked for long: each attempt has the interface's timeout, retries are few and
their back-off is capped, and an open breaker answers at once with ``ServiceUnavailable`` (503,
“服务暂不可用，请稍后重试”).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import DomainError
from app.integrations import calllog
from app.integrations.models import Interface, InterfaceCallLog

MAX_BACKOFF_S = 1.0


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


def _client() -> httpx.Client:
    """One pooled client per process: creating a client builds an SSL context (~0.1–0.3 s), far more than
    a call to a nearby department takes. Connection pools are plumbing, not business state."""
    if not _shared:
        _shared.append(httpx.Client(follow_redirects=False, limits=httpx.Limits(max_connections=50)))
    return _shared[0]


def call(session: Session, code: str, operation: str, method: str, path: str, *, ctx: CallContext,
         summary: dict[str, Any], json: dict[str, Any] | None = None, idempotency_key: str | None = None,
         answers: tuple[int, ...] = (404, 422), content: tuple[bytes, str] | None = None) -> Reply:
    """Call ``code``'s ``path``. 2xx and the business answers in ``answers`` (e.g. 404 “no such contract”)
    are replies; anything else after the retries raises ``ServiceUnavailable``. ``summary`` goes to the call
    log and must not contain personal data. ``content`` (body, media type) sends raw bytes instead of JSON
    and returns the raw reply (RFC 3161 time-stamp requests)."""
    iface = session.execute(select(Interface).where(Interface.code == code)).scalar_one_or_none()
    started, now = time.monotonic(), utcnow()
    log = InterfaceCallLog(interface_code=code, operation=operation, actor_id=ctx.actor_id, case_id=ctx.case_id,
                           business_no=ctx.business_no, request_summary=summary, at=now, attempts=0)
    log.ensure_id()
    if iface is None or not iface.enabled:
        log.outcome, log.error = "rejected", "interface not configured or disabled"
        calllog.record(session, log, breaker=None)
        raise ServiceUnavailable("该部门接口未配置或已停用，请联系管理员", code="interface_disabled")
    unavailable = f"{iface.name}服务暂不可用，请稍后重试"
    allowed, trial = calllog.breaker_allows(iface, now)
    if not allowed:
        log.outcome, log.error = "short_circuit", "circuit breaker open"
        calllog.record(session, log, breaker=None)
        raise ServiceUnavailable(unavailable)
    headers = {"Authorization": f"Bearer {iface.credential or ''}", "Accept": "application/json"}
    if content is not None:
        headers["Content-Type"] = headers["Accept"] = content[1]
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    attempts = 1 if trial else 1 + max(0, iface.max_retries)
    reply, error, status = None, None, None
    client, timeout = _client(), iface.timeout_ms / 1000
    for attempt in range(attempts):
        log.attempts = attempt + 1
        try:
            resp = client.request(method, iface.base_url.rstrip("/") + path, json=json, headers=headers,
                                  timeout=timeout, content=content[0] if content is not None else None)
            status = resp.status_code
            if content is not None and 200 <= status < 300:
                reply = Reply(status, {}, resp.content)
                break
            if 200 <= status < 300 or status in answers:
                body = resp.json() if resp.content else {}
                reply = Reply(status, body if isinstance(body, dict) else {"items": body})
                break
            error = f"HTTP {status}"
        except httpx.TimeoutException:
            error, log.outcome = "timeout", "timeout"
        except (httpx.HTTPError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        if attempt + 1 < attempts:
            time.sleep(min(0.1 * 2 ** attempt, MAX_BACKOFF_S))
    log.latency_ms, log.http_status = int((time.monotonic() - started) * 1000), status
    if reply is not None:
        log.outcome, log.error = "ok", None
        calllog.record(session, log, breaker=True)
        return reply
    log.outcome = "timeout" if error == "timeout" else "error"
    log.error = error
    calllog.record(session, log, breaker=False)
    raise ServiceUnavailable(unavailable)
