"""The internet zone's pieces on their own (docs/zones.md): the allow-list against the application's real routes,
the front-channel signature, and the front process's refusal to hold register secrets or load database code."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.federation import front_signing
from app.federation.front_routes import ALLOWED, is_allowed
from app.federation.signing import FederationRefused, parse_public_key, private_key
from app.portal_front import FrontConfigError, check_environment, from_env, keygen

REPO = Path(__file__).resolve().parents[2]
# Blueprints (endpoint prefixes) of staff, platforms, departments and operations: none of their routes may be open
# to the internet zone.
STAFF_BLUEPRINTS = ("workbench.", "admin.", "federation.", "institutions.", "tasks.", "units.", "court.",
                    "buildings.", "admin_users.", "api-docs.", "api_docs")
STAFF_ENDPOINTS = {"integrations.payment_callback", "integrations.tax_callback", "integrations.list_interfaces",
                   "integrations.list_calls", "integrations.list_outbox", "integrations.list_verifications",
                   "integrations.verification_pdf", "appointments.day_list", "appointments.check_in",
                   "certificates.void", "consents.record_paper_consent", "home.readyz", "home.healthz"}
# The one route of a staff or platform blueprint that is the applicant's: link navigation's arrival (the browser
# posts an upper platform's signed identity assertion; only applicant accounts are signed in by it).
APPLICANT_ENDPOINTS = {"federation.arrive"}


def _sample(rule: str) -> str:
    """A concrete path for a URL rule: each variable becomes an id-like segment."""
    import re

    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x1", rule)


def test_no_staff_route_of_the_application_is_open_to_the_internet_zone(app: Flask) -> None:
    opened = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            staff = ((rule.endpoint.startswith(STAFF_BLUEPRINTS) and rule.endpoint not in APPLICANT_ENDPOINTS)
                     or rule.endpoint in STAFF_ENDPOINTS)
            if staff and is_allowed(method, _sample(rule.rule)):
                opened.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert opened == []


def test_every_allow_listed_route_is_a_route_of_the_application(app: Flask) -> None:
    """No dead entries: each pattern admits some real route with one of its methods (a renamed route shows)."""
    samples = [(_sample(r.rule), r.methods or set()) for r in app.url_map.iter_rules()]
    dead = [route.pattern.pattern for route in ALLOWED
            if not any(route.pattern.match(path) and route.methods & methods for path, methods in samples)]
    assert dead == []


def test_the_applicants_routes_are_open() -> None:
    for method, path in [("GET", "/"), ("POST", "/login"), ("GET", "/my/applications/c1"),
                         ("POST", "/my/applications/c1/materials"), ("GET", "/my/applications/c1/steps/sign"),
                         ("POST", "/api/v1/applications"), ("PATCH", "/api/v1/applications/c1/fields"),
                         ("GET", "/api/v1/applications/c1/progress"), ("GET", "/my/certificates/k1.pdf"),
                         ("POST", "/api/v1/certificates/no-property"), ("GET", "/static/portal.css"),
                         ("GET", "/federation/arrive"), ("POST", "/federation/arrive"), ("GET", "/national"),
                         ("POST", "/national/go"), ("GET", "/national/my"), ("POST", "/national/apply/transfer"),
                         ("POST", "/my/province-no-property"),
                         ("POST", "/api/v1/certificates/province-no-property")]:
        assert is_allowed(method, path), (method, path)


@pytest.mark.parametrize("method, path", [
    ("GET", "/workbench/"), ("DELETE", "/api/v1/applications/c1"), ("POST", "/api/v1/applications/c1/progress"),
    ("GET", "/my/applications/../../admin/"), ("GET", "/my//applications"), ("GET", "/static/admin/app.js"),
    ("GET", "/my/applications/c1%2F..%2Fx"), ("GET", "relative"), ("GET", "/track\n"), ("GET", "/my/a\\b"),
    ("POST", "/api/v1/appointments/check-in"), ("GET", "/api/v1/appointments/day"),
    ("POST", "/federation/ping"), ("POST", "/federation/applications"), ("POST", "/federation/reports"),
    ("POST", "/federation/queries/no-property"), ("GET", "/federation/definitions"),
    ("GET", "/federation/arrive/x"), ("PUT", "/federation/arrive"),
])
def test_anything_else_is_refused(method: str, path: str) -> None:
    assert not is_allowed(method, path)


def test_a_front_signature_verifies_with_the_public_half_only() -> None:
    private, public = keygen()
    headers = front_signing.signed_headers(private_key(private), method="GET", target="/track?q=1",
                                           body_sha256=front_signing.body_digest(b""), client="198.51.100.7")
    message = front_signing.canonical("GET", "/track?q=1", headers[front_signing.HEADER_TIMESTAMP],
                                      headers[front_signing.HEADER_NONCE], front_signing.body_digest(b""),
                                      front_signing.FRONT_ID, "198.51.100.7")
    assert front_signing.verify([parse_public_key(public)], message, headers[front_signing.HEADER_SIGNATURE])
    other = front_signing.canonical("GET", "/track?q=1", headers[front_signing.HEADER_TIMESTAMP],
                                    headers[front_signing.HEADER_NONCE], front_signing.body_digest(b""),
                                    front_signing.FRONT_ID, "198.51.100.8")  # another applicant's address
    assert not front_signing.verify([parse_public_key(public)], other, headers[front_signing.HEADER_SIGNATURE])
    assert not front_signing.verify([parse_public_key(keygen()[1])], message, headers[front_signing.HEADER_SIGNATURE])
    with pytest.raises(FederationRefused):
        front_signing.canonical("GET", "/track\nX: y", "1", "n", "", "front", "")


def test_the_front_refuses_to_start_holding_a_register_secret() -> None:
    private, _ = keygen()
    with pytest.raises(FrontConfigError, match="DATABASE_URL"):
        check_environment({"DATABASE_URL": "postgresql://x", "FRONT_SIGNING_KEY": private})
    with pytest.raises(FrontConfigError, match="FRONT_SIGNING_KEY"):
        from_env({"FRONT_BACK_OFFICE_URL": "http://10.0.0.1:8001"})
    with pytest.raises(FrontConfigError, match="FRONT_BACK_OFFICE_URL"):
        from_env({"FRONT_SIGNING_KEY": private})
    assert from_env({"FRONT_SIGNING_KEY": private, "FRONT_BACK_OFFICE_URL": "http://10.0.0.1:8001/"}).back_office_url \
        == "http://10.0.0.1:8001"
    started = subprocess.run([sys.executable, "-m", "app.portal_front", "--back-office", "http://10.0.0.1:8001"],
                             env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO),
                                  "FRONT_SIGNING_KEY": private, "FIELD_KEYS": "k1:abc"},
                             capture_output=True, text=True, cwd=REPO, timeout=60)
    assert started.returncode == 2 and "FIELD_KEYS" in started.stderr, started.stderr


def test_the_front_loads_no_database_code() -> None:
    """What the process imports, not only what the import linter sees (setup.cfg contract ``internet-zone``)."""
    probe = ("import sys, app.portal_front\n"
             "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'psycopg', "
             "'SpiffWorkflow', 'alembic') or m.startswith(('app.db', 'app.models', 'app.registry', 'app.cases')))))")
    loaded = subprocess.run([sys.executable, "-c", probe], env={"PATH": os.environ.get("PATH", ""),
                                                                "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == ""


def test_the_channel_needs_a_front_key_and_takes_several_for_a_rotation() -> None:
    from app.federation.front_channel import parse_keys

    with pytest.raises(ValueError):
        parse_keys(" , ")
    with pytest.raises(ValueError):
        parse_keys("not-a-key")
    assert len(parse_keys(f"{keygen()[1]}, {keygen()[1]}")) == 2


@pytest.mark.parametrize("proxies, seen", [(0, "192.0.2.10"), (1, "198.51.100.23")])
def test_the_front_signs_what_it_forwards_and_drops_what_a_client_may_not_say(proxies: int, seen: str) -> None:
    """What leaves the front (captured at the HTTP transport): the applicant's address — behind a trusted proxy the
    one X-Forwarded-For names — signed with the body and the target; a client's own X-Front-* and forwarding
    headers never pass."""
    import httpx
    from werkzeug.test import Client

    from app.portal_front import PortalFront

    private, public = keygen()
    sent: list[httpx.Request] = []

    class Streamed(httpx.SyncByteStream):  # an answer arriving over the wire (the front relays it unread)
        def __iter__(self) -> Iterator[bytes]:
            yield b'{"ok": true}'

    def back_office(request: httpx.Request) -> httpx.Response:
        request.read()
        sent.append(request)
        return httpx.Response(201, stream=Streamed(), headers=[("Content-Type", "application/json"),
                                                               ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])

    front = PortalFront("http://10.0.0.1:8001", private_key(private), trusted_proxies=proxies,
                        transport=httpx.MockTransport(back_office))
    answer = Client(front).post("/api/v1/applications?x=1", data=b'{"a":1}', content_type="application/json",
                                environ_base={"REMOTE_ADDR": "192.0.2.10"},
                                headers={"X-Forwarded-For": "198.51.100.23", "X-Front-Client": "203.0.113.1",
                                         "X-Front-Signature": "forged"})
    assert answer.status_code == 201 and answer.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert answer.get_json() == {"ok": True}
    (request,) = sent
    assert request.headers["X-Front-Client"] == seen and "x-forwarded-for" not in request.headers
    assert request.url.raw_path == b"/api/v1/applications?x=1" and request.content == b'{"a":1}'
    message = front_signing.canonical("POST", "/api/v1/applications?x=1", request.headers["X-Front-Timestamp"],
                                      request.headers["X-Front-Nonce"], front_signing.body_digest(b'{"a":1}'),
                                      front_signing.FRONT_ID, seen)
    assert front_signing.verify([parse_public_key(public)], message, request.headers["X-Front-Signature"])
    assert not sent[0].headers.get_list("X-Front-Signature")[1:]  # one signature: the front's, not the client's


def test_the_front_keeps_no_cookie_of_one_applicant_for_the_next() -> None:
    """The back office's Set-Cookie goes to the applicant it answers and nowhere else: the next request, from
    another applicant with no cookie, leaves the front with none (the shared HTTP client keeps no cookie jar)."""
    import httpx
    from werkzeug.test import Client

    from app.portal_front import PortalFront

    cookies_sent: list[str | None] = []

    class Streamed(httpx.SyncByteStream):  # an answer arriving over the wire (the front relays it unread)
        def __iter__(self) -> Iterator[bytes]:
            yield b""

    def back_office(request: httpx.Request) -> httpx.Response:
        cookies_sent.append(request.headers.get("Cookie"))
        return httpx.Response(302, stream=Streamed(),
                              headers=[("Location", "/"), ("Set-Cookie", "session=first-applicant; Path=/")])

    front = PortalFront("http://10.0.0.1:8001", private_key(keygen()[0]), transport=httpx.MockTransport(back_office))
    first = Client(front, use_cookies=False).post("/login", data={"username": "a"})
    assert first.headers["Set-Cookie"].startswith("session=first-applicant")
    Client(front, use_cookies=False).get("/my/applications")
    Client(front, use_cookies=False).get("/", headers={"Cookie": "session=own"})
    assert cookies_sent == [None, None, "session=own"]


def test_the_front_answers_for_itself_when_it_does_not_forward() -> None:
    """Its own liveness, a Chinese page or problem JSON for a refused route, and 502 when the back office is not
    there (a port just released: the connection is refused at once)."""
    import socket

    from werkzeug.test import Client

    from app.portal_front import PortalFront

    with socket.create_server(("127.0.0.1", 0)) as gone:
        port = gone.getsockname()[1]
    front = Client(PortalFront(f"http://127.0.0.1:{port}", private_key(keygen()[0])))
    alive = front.get("/healthz")
    assert alive.status_code == 200 and alive.get_json() == {"status": "ok", "zone": "internet"}
    page = front.get("/workbench/", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "页面不存在" in page.get_data(as_text=True) and page.mimetype == "text/html"
    problem = front.get("/admin/", headers={"Accept": "application/json"})
    assert problem.status_code == 404 and problem.get_json()["code"] == "not_found"
    down = front.get("/api/v1/business-types", headers={"Accept": "application/json"})
    assert down.status_code == 502 and down.get_json()["code"] == "back_office_unavailable"
