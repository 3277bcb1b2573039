"""The back office's front channel: the one listener the internet zone's portal front may reach (docs/zones.md).

A WSGI layer around the whole application, served on its own address (``gunicorn -c python:app.serving
front_channel_wsgi:app`` on the extranet interface facing the internet zone; the staff's listener stays where the
internet zone cannot route). Before the application sees a request it must be

1. on the allow-list of app/federation/front_routes.py (else 404 ``route_not_allowed``): a compromised front
   cannot reach the workbench, the admin skin, the federation or institutions' APIs through here;
2. signed by a configured front key (``FRONT_CHANNEL_PUBLIC_KEYS``, base64 Ed25519 public keys, comma-separated
   during a rotation): no signature → 401 ``front_unsigned``, a bad one → ``signature_invalid``;
3. fresh (``FEDERATION_SKEW_SECONDS``; ``request_expired``) and not replayed (its nonce is spent in
   ``federation_nonce`` under the name ``front``; ``request_replayed``).

The applicant's address the front signed becomes the request's address (the sign-in throttle counts it); any
forwarding header is dropped. Then the application answers as it answers on its own listener: the applicant's
session cookie, CSRF token and permissions are checked there, unchanged.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from datetime import timedelta
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from werkzeug.wsgi import ClosingIterator

from app.db import utcnow
from app.federation import front_signing, peers, signing
from app.federation.front_routes import is_allowed
from app.identity.zones import INTERNET, ZONE_KEY

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


class ChannelRefused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def parse_keys(raw: str) -> list[Ed25519PublicKey]:
    """``FRONT_CHANNEL_PUBLIC_KEYS``: one or more base64 Ed25519 public keys, comma-separated."""
    keys = [signing.parse_public_key(part) for part in raw.split(",") if part.strip()]
    if not keys:
        raise ValueError("FRONT_CHANNEL_PUBLIC_KEYS is empty: the front channel would accept no front")
    return keys


class FrontChannel:
    """WSGI: check a forwarded request (allow-list, signature, freshness, nonce), then hand it to ``app``."""

    def __init__(self, app: Flask, public_keys: list[Ed25519PublicKey]) -> None:
        if not public_keys:
            raise ValueError("the front channel needs at least one front public key")
        self.app = app
        self.public_keys = public_keys

    @classmethod
    def from_env(cls, app: Flask) -> FrontChannel:
        return cls(app, parse_keys(os.environ.get("FRONT_CHANNEL_PUBLIC_KEYS", "")))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            spooled, size = self._admit(environ)
        except ChannelRefused as refused:
            # the method and the reason only: a path may carry an invitation's token or a case id
            log.warning("front channel refused a %s request: %s", environ.get("REQUEST_METHOD"), refused.code)
            body = json.dumps({"type": f"about:blank#{refused.code}", "title": refused.detail,
                               "status": refused.status, "detail": refused.detail, "code": refused.code},
                              ensure_ascii=False).encode()
            start_response(f"{refused.status} {'Not Found' if refused.status == 404 else 'Refused'}",
                           [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))])
            return [body]
        environ = _as_from_front(environ, spooled, size)
        return ClosingIterator(self.app(environ, start_response), [spooled.close])

    def _admit(self, environ: dict[str, Any]) -> tuple[IO[bytes], int]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        if not is_allowed(method, path):
            raise ChannelRefused(404, "route_not_allowed", "该地址不对互联网区开放")
        header = {name: environ.get("HTTP_" + name.upper().replace("-", "_"), "") for name in front_signing.HEADERS}
        if not header[front_signing.HEADER_SIGNATURE] or header[front_signing.HEADER_FRONT] != front_signing.FRONT_ID:
            raise ChannelRefused(401, "front_unsigned", "请求未经互联网区前置服务签名")
        spooled, digest, size = self._spool(environ)
        target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        try:
            message = front_signing.canonical(method, target, header[front_signing.HEADER_TIMESTAMP],
                                              header[front_signing.HEADER_NONCE], digest, front_signing.FRONT_ID,
                                              header[front_signing.HEADER_CLIENT])
            if not front_signing.verify(self.public_keys, message, header[front_signing.HEADER_SIGNATURE]):
                raise ChannelRefused(401, "signature_invalid", "前置服务签名验证失败")
            window = timedelta(seconds=self.app.config["SETTINGS"].federation_skew_seconds)
            sent = peers.parse_timestamp(header[front_signing.HEADER_TIMESTAMP])
            if abs(utcnow() - sent) > window:
                raise ChannelRefused(401, "request_expired", "请求已过期或时间不同步，请核对双方系统时间")
            with self.app.app_context(), self.app.extensions["db"].unit_of_work() as session:
                peers.use_nonce(session, front_signing.FRONT_ID, header[front_signing.HEADER_NONCE],
                                sent + 2 * window)
        except signing.FederationRefused as exc:
            spooled.close()
            raise ChannelRefused(401, exc.code, exc.message) from exc
        except ChannelRefused:
            spooled.close()
            raise
        return spooled, size

    def _spool(self, environ: dict[str, Any]) -> tuple[IO[bytes], str, int]:
        """The body, bounded by the application's own upload limit, in a spooled file with its SHA-256."""
        limit = int(self.app.config.get("MAX_CONTENT_LENGTH") or 21 * 1024 * 1024)
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared and (not declared.isdigit() or int(declared) > limit):
            raise ChannelRefused(413, "payload_too_large", "上传的内容过大")
        stream = environ["wsgi.input"]
        remaining = int(declared) if declared else (limit + 1 if environ.get("wsgi.input_terminated") else 0)
        spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (closed later)
        digest, size = hashlib.sha256(), 0
        while remaining > 0 and (chunk := stream.read(min(CHUNK, remaining))):
            size += len(chunk)
            remaining -= len(chunk)
            if size > limit:
                spooled.close()
                raise ChannelRefused(413, "payload_too_large", "上传的内容过大")
            digest.update(chunk)
            spooled.write(chunk)
        spooled.seek(0)
        return spooled, digest.hexdigest(), size


def _as_from_front(environ: dict[str, Any], body: IO[bytes], size: int) -> dict[str, Any]:
    """The request as the application should see it: the verified body, the applicant's signed address, no
    front or forwarding headers (nothing unsigned may speak for the applicant's address)."""
    environ = dict(environ)
    client = environ.get("HTTP_X_FRONT_CLIENT", "")
    for name in [k for k in environ if k.startswith(("HTTP_X_FRONT_", "HTTP_X_FORWARDED_", "HTTP_FORWARDED"))]:
        del environ[name]
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input"] = body
    environ["wsgi.input_terminated"] = False
    environ["CONTENT_LENGTH"] = str(size) if size else ""
    environ["REMOTE_ADDR"] = client or environ.get("REMOTE_ADDR", "")
    environ[ZONE_KEY] = INTERNET  # which accounts may sign in or act here: app/identity/zones.py
    return environ
