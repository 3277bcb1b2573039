"""The portal front: the internet zone's process (issue 20 §2, docs/zones.md).

It holds no database URL, no field or index keys, no register or certificate keys, no session secret: only the
back office's address and its own Ed25519 key. It serves the applicant portal's pages and the applicant API by
forwarding each request on the allow-list (app/federation/front_routes.py) to the back office's front channel
(app/federation/front_channel.py), signed with its key; every other route is answered 404 here and never leaves
the internet zone. Cookies pass through untouched: the applicant still signs in to the back office, which alone
decides what the session may see. A compromise of this process therefore yields what the applicant API yields to
whoever holds an applicant's session — and nothing of the register.

Run it: ``FRONT_SIGNING_KEY=… python -m app.portal_front --back-office http://10.0.0.1:8001 --port 8080``
(``python -m app.portal_front keygen`` makes a key pair), or under gunicorn: ``gunicorn 'app.portal_front:from_env()'``.
It imports no database code (tests/unit/test_portal_front_imports.py) and refuses to start with a register secret
in its environment.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.cookiejar
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.wrappers import Request, Response

from app.federation import front_signing, signing
from app.federation.front_routes import is_allowed

# What a process of the internet zone must never hold (app/config.py's names): refused at start.
FORBIDDEN_ENV = ("DATABASE_URL", "MIGRATE_DATABASE_URL", "SECRET_KEY", "FIELD_KEYS", "FIELD_ACTIVE_KEY",
                 "BLIND_INDEX_KEY", "TAX_CALLBACK_SECRET", "PAYMENT_CALLBACK_SECRET", "SIMULATOR_API_KEY",
                 "FEDERATION_SIGNING_KEY", "CERT_SIGNING_KEY_FILE", "RATELIMIT_STORAGE_URI")
# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones this front sets itself: never copied across.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "proxy-connection"})
DROPPED_REQUEST = (HOP_BY_HOP | {"host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
                                 "x-real-ip", "forwarded"} | {h.lower() for h in front_signing.HEADERS})
CHUNK = 64 * 1024
SPOOL_IN_MEMORY = 1024 * 1024  # bodies above 1 MB (uploads) wait in a temporary file, not in memory


class FrontConfigError(RuntimeError):
    pass


class PortalFront:
    """The WSGI application of the internet zone: allow-list, sign, forward, stream the answer back."""

    def __init__(self, back_office_url: str, key: Ed25519PrivateKey, *, max_body_bytes: int = 21 * 1024 * 1024,
                 timeout_s: float = 60.0, trusted_proxies: int = 0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.back_office_url = back_office_url.rstrip("/")
        self.key = key
        self.max_body_bytes = max_body_bytes
        # cookies=_NoCookies(): the applicants' cookies pass through, the front keeps none. httpx's client has a
        # cookie jar; with it, the session cookie one applicant's sign-in set went with the next applicant's
        # requests that carried none (found: a fresh browser arrived signed in as the previous person).
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=5.0), follow_redirects=False,
                                   trust_env=False, transport=transport, cookies=_NoCookies())
        self._entry: Any = self._serve
        if trusted_proxies:  # behind the internet side's load balancer: the applicant's address from X-Forwarded-For
            from werkzeug.middleware.proxy_fix import ProxyFix

            self._entry = ProxyFix(self._serve, x_for=trusted_proxies, x_proto=trusted_proxies)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self._entry(environ, start_response)

    def _serve(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/healthz":  # the front's own liveness; the back office's readiness is not the internet's business
            return _json(200, {"status": "ok", "zone": "internet"})
        if not is_allowed(request.method, path):
            return _refusal(request, 404, "not_found", "页面不存在")
        if request.content_length is not None and request.content_length > self.max_body_bytes:
            return _refusal(request, 413, "payload_too_large", "上传的内容过大")
        body = _spool(request.stream, self.max_body_bytes)
        if body is None:
            return _refusal(request, 413, "payload_too_large", "上传的内容过大")
        spooled, digest, size = body
        url = httpx.URL(self.back_office_url + quote(path, safe="/-_.~") +
                        ("?" + request.query_string.decode("latin-1") if request.query_string else ""))
        target = url.raw_path.decode("ascii")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in DROPPED_REQUEST]
        headers.append(("Host", request.host))
        if size:
            headers.append(("Content-Length", str(size)))
        headers += front_signing.signed_headers(
            self.key, method=request.method, target=target, body_sha256=digest,
            client=request.remote_addr or "").items()
        outgoing = self.client.build_request(request.method, url, headers=headers,
                                             content=_chunks(spooled) if size else b"")
        try:
            answer = self.client.send(outgoing, stream=True)
        except httpx.HTTPError:
            spooled.close()
            return _refusal(request, 502, "back_office_unavailable", "登记业务系统暂时无法连接，请稍后再试")
        spooled.close()
        reply = Response(_relay(answer), status=answer.status_code, direct_passthrough=True)
        reply.headers.clear()
        for name, value in answer.headers.multi_items():
            if name.lower() not in HOP_BY_HOP:
                reply.headers.add(name, value)
        reply.call_on_close(answer.close)
        return reply


class _NoCookies(http.cookiejar.CookieJar):
    """A cookie jar that keeps nothing: the front is shared by every applicant, a cookie belongs to one."""

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def _spool(stream: IO[bytes], limit: int) -> tuple[IO[bytes], str, int] | None:
    """The request body read into a spooled file with its SHA-256 (the signature covers it); None past ``limit``."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (closed by the caller)
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            spooled.close()
            return None
        digest.update(chunk)
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, digest.hexdigest(), size


def _chunks(spooled: IO[bytes]) -> Iterator[bytes]:
    while chunk := spooled.read(CHUNK):
        yield chunk


def _relay(answer: httpx.Response) -> Iterator[bytes]:
    try:
        yield from answer.iter_raw(CHUNK)  # as sent: a compressed answer stays compressed, its length holds
    finally:
        answer.close()


def _json(status: int, body: dict[str, Any], mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)


def _refusal(request: Request, status: int, code: str, detail: str) -> Response:
    """Problem JSON for a client of the API, a plain Chinese page for a browser."""
    if request.accept_mimetypes.accept_html and not request.path.startswith("/api/"):
        page = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{detail}</title></head>'
                f'<body><main><h1>{detail}</h1><p><a href="/">返回首页</a></p></main></body></html>')
        return Response(page, status=status, mimetype="text/html")
    return _json(status, {"type": f"about:blank#{code}", "title": detail, "status": status, "detail": detail,
                          "code": code}, mimetype="application/problem+json")


def load_key(environ: Mapping[str, str] | None = None) -> Ed25519PrivateKey:
    """The front's own key from FRONT_SIGNING_KEY (base64 of 32 bytes) or the file FRONT_SIGNING_KEY_FILE names."""
    environ = os.environ if environ is None else environ
    encoded = (environ.get("FRONT_SIGNING_KEY") or "").strip()
    if not encoded and environ.get("FRONT_SIGNING_KEY_FILE"):
        with open(environ["FRONT_SIGNING_KEY_FILE"], encoding="ascii") as handle:
            encoded = handle.read().strip()
    if not encoded:
        raise FrontConfigError("FRONT_SIGNING_KEY is not set (python -m app.portal_front keygen makes a pair)")
    try:
        return signing.private_key(encoded)
    except signing.FederationKeyMissing as exc:
        raise FrontConfigError("FRONT_SIGNING_KEY is not a base64 Ed25519 key of 32 bytes") from exc


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Refuse to run with a register secret at hand: the internet zone must not hold one, even unused."""
    environ = os.environ if environ is None else environ
    held = [name for name in FORBIDDEN_ENV if environ.get(name)]
    if held:
        raise FrontConfigError("refusing to start: the internet zone holds no register secrets, found "
                               + ", ".join(held))


def from_env(environ: Mapping[str, str] | None = None) -> PortalFront:
    """The front as configured by FRONT_BACK_OFFICE_URL, FRONT_SIGNING_KEY(_FILE), FRONT_MAX_BODY_MB and
    FRONT_TRUSTED_PROXIES (how many proxies in front of it set X-Forwarded-For, like the back office's
    TRUSTED_PROXIES)."""
    environ = os.environ if environ is None else environ
    check_environment(environ)
    url = (environ.get("FRONT_BACK_OFFICE_URL") or "").strip()
    if not url.startswith(("http://", "https://")):
        raise FrontConfigError("FRONT_BACK_OFFICE_URL must be the back office's front channel, http(s)://host:port")
    max_mb = int(environ.get("FRONT_MAX_BODY_MB") or 21)
    proxies = int(environ.get("FRONT_TRUSTED_PROXIES") or 0)
    return PortalFront(url, load_key(environ), max_body_bytes=max_mb * 1024 * 1024, trusted_proxies=proxies)


def keygen() -> tuple[str, str]:
    """A new key pair: the private half for the front, the public half for the back office."""
    key = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    private = base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()
    return private, signing.public_key_text(key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.portal_front", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "keygen"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--back-office", help="the back office's front channel (else FRONT_BACK_OFFICE_URL)")
    args = parser.parse_args(argv)
    if args.command == "keygen":
        private, public = keygen()
        print(f"FRONT_SIGNING_KEY={private}        # the front's (internet zone) secret")
        print(f"FRONT_CHANNEL_PUBLIC_KEYS={public}  # the back office's (extranet) setting")
        return 0
    env = dict(os.environ)
    if args.back_office:
        env["FRONT_BACK_OFFICE_URL"] = args.back_office
    try:
        front = from_env(env)
    except FrontConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    from werkzeug.serving import make_server

    server = make_server(args.host, args.port, front, threaded=True)
    print(f"portal front on http://{args.host}:{server.server_port} → {front.back_office_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
