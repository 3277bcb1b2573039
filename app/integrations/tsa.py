"""RFC 3161 time stamps from the time-stamping authority (``tsa`` interface: the simulator in development,
the real TSA in production via ``INTERFACE_TSA_URL``), and checking a token offline.

The request goes through the one HTTP path to departments (app/integrations/client.py: timeout, retries,
breaker, call log); a TSA that is down raises ``ServiceUnavailable`` and the caller stamps later. Checking a
token is pyHanko's (``validate_tst_signed_data``): the signature over the TSTInfo, and the message imprint
against the digest we expect. pyHanko and asn1crypto are imported on use: a web worker that imports this module
(e.g. through a page that shows checkpoints) does not load them (issue 18).
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, ServiceUnavailable, call

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509

MEDIA_QUERY = "application/timestamp-query"


def request_token(session: Session, digest: bytes) -> bytes:
    """A DER TimeStampToken over the SHA-256 ``digest``; ``ServiceUnavailable`` when the TSA cannot answer."""
    from asn1crypto import tsp
    from pyhanko.sign.timestamps.api import TimeStamper

    nonce, req = TimeStamper(include_nonce=True).request_cms(digest, "sha256")
    reply = call(session, "tsa", "timestamp", "POST", "/tsa", ctx=CallContext(),
                 summary={"imprint": digest.hex()}, content=(req.dump(), MEDIA_QUERY))
    try:
        resp = tsp.TimeStampResp.load(reply.content)
        status = resp["status"]["status"].native
        token = resp["time_stamp_token"]
        tst_info = token["content"]["encap_content_info"]["content"].parsed
    except (ValueError, TypeError, KeyError) as exc:
        raise ServiceUnavailable("时间戳服务返回的数据无法解析") from exc
    if status not in ("granted", "granted_with_mods") or tst_info["nonce"].native != nonce \
            or tst_info["message_imprint"]["hashed_message"].native != digest:
        raise ServiceUnavailable("时间戳服务拒绝了请求或返回了不符的时间戳")
    return token.dump()


@dataclass(frozen=True)
class TokenCheck:
    """``intact``: the token is signed and stamps exactly ``digest``; ``trusted``: its TSA chains to a root
    the verifier was given (without one, the signature is still checked against the embedded certificate)."""

    intact: bool
    trusted: bool
    stamped_at: datetime | None
    tsa: str | None


def check_token(token_der: bytes, digest: bytes, tsa_roots: list[asn1_x509.Certificate] | None = None) -> TokenCheck:
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko_certvalidator import ValidationContext

    try:
        signed_data = cms.ContentInfo.load(token_der)["content"]
        context = ValidationContext(trust_roots=tsa_roots or [], allow_fetching=False, revocation_mode="soft-fail")
        status: dict[str, Any] = _run(validate_tst_signed_data(signed_data, context, lambda _algo: digest))
    except Exception:  # malformed tokens are simply not intact
        return TokenCheck(False, False, None, None)
    cert = status.get("signing_cert")
    trusted = bool(tsa_roots) and status.get("validation_path") is not None \
        and status.get("trust_problem_indic") is None
    return TokenCheck(intact=bool(status.get("intact") and status.get("valid")), trusted=trusted,
                      stamped_at=status.get("timestamp"), tsa=cert.subject.human_friendly if cert else None)


def _run(coro: Any) -> Any:
    """pyHanko validates asynchronously; a thread that already runs an event loop hands it to a worker."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
