"""The internet zone in tests (docs/zones.md): the back office's front channel served on a chosen address, the
portal front as a separate process (optionally inside a network namespace), and the applicant's journey through it."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from support.forms import PDF, transfer_form
from support.personas import PASSWORD

REPO = Path(__file__).resolve().parents[2]


class HostServer:
    """A real HTTP server on ``host`` (any local address, e.g. a veth's) and a free port, in a thread."""

    def __init__(self, wsgi_app: Any, host: str = "127.0.0.1") -> None:
        from werkzeug.serving import make_server

        self.server = make_server(host, 0, wsgi_app, threaded=True)
        self.server.daemon_threads = False
        self.host, self.port = host, self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def new_front_key() -> tuple[str, str]:
    """A front key pair (private for the front's environment, public for the channel), as ``keygen`` makes it."""
    from app.portal_front import keygen

    return keygen()


@dataclass
class FrontProcess:
    """The portal front running as its own process; ``url`` is where applicants reach it."""

    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        """The process's environment as the kernel holds it (/proc/<pid>/environ)."""
        raw = Path(f"/proc/{self.process.pid}/environ").read_bytes()
        pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
        return {k.decode(): v.decode(errors="replace") for k, v in pairs}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_front(back_office_url: str, private_key: str, *, host: str = "127.0.0.1", netns: str | None = None,
                max_body_mb: int = 2) -> FrontProcess:
    """``python -m app.portal_front`` with an environment holding nothing but its own key and where to forward
    (no database URL, no register keys), inside ``netns`` when given; returns once it listens."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), "LANG": "C.UTF-8",
           "FRONT_SIGNING_KEY": private_key, "FRONT_MAX_BODY_MB": str(max_body_mb)}
    command = [sys.executable, "-u", "-m", "app.portal_front", "--host", host, "--port", "0",
               "--back-office", back_office_url]
    if netns:
        command = ["ip", "netns", "exec", netns, *command]
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    assert process.stdout is not None
    line = process.stdout.readline()  # the process says where it listens, or dies (EOF) saying why
    match = re.search(r"portal front on (http://\S+)", line)
    if not match:
        rest = process.stdout.read() if process.poll() is not None else ""
        process.kill()
        raise AssertionError(f"the portal front did not start: {line}{rest}")
    return FrontProcess(process, match.group(1))


# --- a network namespace for the internet zone -------------------------------------------------------------------

def namespaces_unavailable() -> str | None:
    """Why this machine cannot make a network namespace (the test then skips saying so), or None."""
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux only"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces (`ip netns add`) needs root"
    probe = f"bdc-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class InternetZone:
    """A network namespace linked to the root namespace (the extranet) by one veth pair with a private /30:
    ``extranet_address`` on the root side, ``internet_address`` inside. Nothing else is routed into it."""

    name: str
    extranet_address: str
    internet_address: str
    root_link: str

    @classmethod
    def create(cls) -> InternetZone:
        block = os.getpid() % 16384  # unique per running worker: its own namespace, link names and addresses
        base = f"10.231.{block // 64}.{(block % 64) * 4}"
        prefix, last = base.rsplit(".", 1)
        zone = cls(f"bdc-inet-{os.getpid()}", f"{prefix}.{int(last) + 1}", f"{prefix}.{int(last) + 2}",
                   f"vbi{os.getpid()}a")
        inner = f"vbi{os.getpid()}b"
        zone.destroy()  # a leftover of a killed run with the same pid
        try:
            _ip("netns", "add", zone.name)
            _ip("link", "add", zone.root_link, "type", "veth", "peer", "name", inner)
            _ip("link", "set", inner, "netns", zone.name)
            _ip("addr", "add", f"{zone.extranet_address}/30", "dev", zone.root_link)
            _ip("link", "set", zone.root_link, "up")
            _ip("-n", zone.name, "addr", "add", f"{zone.internet_address}/30", "dev", inner)
            _ip("-n", zone.name, "link", "set", inner, "up")
            _ip("-n", zone.name, "link", "set", "lo", "up")
        except RuntimeError:
            zone.destroy()
            raise
        return zone

    def can_connect(self, host: str, port: int) -> bool:
        """Whether a process inside the namespace can open a TCP connection to ``host:port`` (a refused or
        unroutable connection answers at once: nothing here waits on a timeout to pass)."""
        probe = ("import socket, sys\n"
                 "try:\n    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10).close()\n"
                 "except OSError as exc:\n    print(type(exc).__name__, exc)\n    sys.exit(1)\n")
        done = subprocess.run(["ip", "netns", "exec", self.name, sys.executable, "-c", probe, host, str(port)],
                              capture_output=True, text=True, env={"PATH": os.environ.get("PATH", "")})
        return done.returncode == 0

    def restrict(self, *, channel_port: int, front_port: int) -> None:
        """The zone's routing policy admits only TCP to the channel's port and the front's answers to its
        applicants; any other connection from inside fails at once (``prohibit``: EACCES, no timeout). It stands
        in for the extranet's firewall rule (docs/zones.md), which needs nft or iptables this machine lacks."""
        _ip("-n", self.name, "rule", "add", "prio", "1000", "to", self.extranet_address, "ipproto", "tcp",
            "dport", str(channel_port), "lookup", "main")
        _ip("-n", self.name, "rule", "add", "prio", "1001", "from", self.internet_address, "ipproto", "tcp",
            "sport", str(front_port), "lookup", "main")
        _ip("-n", self.name, "rule", "add", "prio", "1002", "prohibit")

    def destroy(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        subprocess.run(["ip", "link", "del", self.root_link], capture_output=True)  # gone with the namespace


# --- the applicant's journey and the refusals --------------------------------------------------------------------

def _csrf(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def applicant_journey(front_url: str) -> str:
    """张三 through the front only: signs in on the page (session cookie and CSRF token pass through), sees his
    applications, then with the API's token creates a transfer, uploads a material, reads its progress and
    downloads the business type's process; returns the new case's id."""
    with httpx.Client(base_url=front_url, timeout=60, trust_env=False) as web:
        home = web.get("/")
        assert home.status_code == 200, home.text[:300]
        form = web.get("/login")
        assert form.status_code == 200
        signed_in = web.post("/login", data={"csrf_token": _csrf(form), "username": "zhangsan",
                                             "password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.text[:300]
        mine = web.get("/my/applications")
        assert mine.status_code == 200 and "我的申请" in mine.text, mine.text[:300]
        token = web.post("/api/v1/auth/token", json={"username": "zhangsan", "password": PASSWORD})
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = web.post("/api/v1/applications", headers=bearer,
                           json={"business_type": "transfer_resale", "form": transfer_form()})
        assert created.status_code == 201, created.text
        case_id = created.json()["id"]
        missing = created.json()["materials_missing"]
        uploaded = web.post(f"/api/v1/applications/{case_id}/materials", headers=bearer, data={"code": missing[0]},
                            files={"file": (f"{missing[0]}.pdf", PDF, "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
        scan = PDF + b"%" + b"0" * (1536 * 1024) + b"\n"  # 1.5 MB: spooled to disk at both ends, streamed between
        large = web.post(f"/api/v1/applications/{case_id}/materials", headers=bearer, data={"code": missing[0]},
                         files={"file": (f"{missing[0]}-2.pdf", scan, "application/pdf")})
        assert large.status_code == 201, large.text
        shown = web.get(f"/api/v1/applications/{case_id}", headers=bearer).json()
        assert missing[0] not in shown["materials_missing"], shown
        progress = web.get(f"/api/v1/applications/{case_id}/progress", headers=bearer)
        assert progress.status_code == 200, progress.text
        listed = web.get("/api/v1/applications", headers=bearer).json()
        assert case_id in [item["id"] for item in listed["items"]], listed
        tracked = web.get("/track", params={"from": "首页 & 导航", "page": "1"})  # an encoded query, signed as sent
        assert tracked.status_code == 200, tracked.text[:300]
        diagram = web.get("/guide/transfer_resale/process.bpmn")
        assert diagram.status_code == 200 and b"bpmn" in diagram.content[:2000].lower(), diagram.status_code
        page = web.get(f"/my/applications/{case_id}")
        assert page.status_code == 200, page.text[:300]
    return case_id


# Staff and platform routes the front must never forward (the last ones try to slip past the allow-list).
NOT_FORWARDED = ("/workbench/", "/admin/", "/admin/users", "/federation/ping", "/api/v1/tasks", "/api/v1/units",
                 "/api/v1/institutions/staff", "/api/v1/interfaces/calls", "/api/v1/outbox", "/readyz",
                 "/api/v1/appointments/day", "/static/admin/index.html", "/api/openapi.json",
                 "/my/applications/../../admin/", "/my/applications/%2e%2e/%2e%2e/admin/")


def staff_token(app: Any, username: str = "xh_acceptor") -> str:
    """A clerk's API token as the staff listener issues it (the back office's own secret): what a staff credential
    that leaked to the internet would be."""
    from sqlalchemy import select

    from app.identity.models import User
    from app.identity.service import issue_token

    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return issue_token(app.config["SETTINGS"].secret_key, user)


def assert_staff_cannot_sign_in_at_front(front_url: str, clerk_token: str) -> None:
    """Through the front a clerk's password gets the answer of a wrong password, on the API and on the page (no
    account enumeration, nothing to guess at), and a clerk's token made on the staff listener is refused as an
    expired one; the applicant's own sign-in through the same front works (the control)."""
    with httpx.Client(base_url=front_url, timeout=30, trust_env=False) as web:
        refused = web.post("/api/v1/auth/token", json={"username": "xh_acceptor", "password": PASSWORD})
        unknown = web.post("/api/v1/auth/token", json={"username": "no_such_account", "password": PASSWORD})
        assert refused.status_code == unknown.status_code == 401, refused.text
        assert refused.json() == unknown.json() and refused.json()["code"] == "bad_credentials", refused.text
        form = web.get("/login")
        page = web.post("/login", data={"csrf_token": _csrf(form), "username": "xh_acceptor", "password": PASSWORD})
        assert page.status_code == 401 and "用户名或密码错误" in page.text, page.status_code
        bearer = {"Authorization": f"Bearer {clerk_token}", "Accept": "application/json"}
        used = web.get("/api/v1/applications", headers=bearer)
        assert used.status_code == 401 and used.json()["code"] == "bad_token", used.text
        applicant = web.post("/api/v1/auth/token", json={"username": "zhangsan", "password": PASSWORD})
        assert applicant.status_code == 200, applicant.text


def assert_staff_routes_refused_at_front(front_url: str, clerk_token: str) -> None:
    """Every staff route answers 404 at the front, even with a clerk's valid token (made on the staff listener:
    the internet zone issues none to staff, ``assert_staff_cannot_sign_in_at_front``)."""
    with httpx.Client(base_url=front_url, timeout=30, trust_env=False) as web:
        bearer = {"Authorization": f"Bearer {clerk_token}", "Accept": "application/json"}
        for path in NOT_FORWARDED:
            for method in ("GET", "POST"):
                answer = web.request(method, path, headers=bearer)
                assert answer.status_code == 404, (method, path, answer.status_code, answer.text[:200])
                assert answer.json()["code"] == "not_found", (method, path, answer.text)
        too_big = web.post("/api/v1/applications", content=b"x" * (3 * 1024 * 1024),
                           headers={**bearer, "Content-Type": "application/json"})
        assert too_big.status_code == 413 and too_big.json()["code"] == "payload_too_large", too_big.text


def assert_navigation_lands_through_front(front_url: str, city: Any) -> None:
    """Link navigation into a zoned city (``city``: the back office, 330100): its province (330000, a key of its
    own the city trusts) signs an identity assertion carrying the national platform's navigation claim, and the
    browser posts it to the city's portal — the front. The back office verifies it as on any listener: the
    person lands signed in on the chosen type's application; the same assertion again is a replay, and a
    tampered one is refused."""
    import secrets
    from datetime import date

    from app.federation import assertion
    from app.federation.peers import add_peer
    from app.federation.signing import private_key, public_key_text
    from app.identifiers import make_id_card
    from app.security.masking import mask_id_number

    key = private_key(new_federation_key())
    with city.app_context(), city.extensions["db"].unit_of_work() as session:
        add_peer(session, code="330000", name="浙江省", level="province", base_url="http://198.51.100.1:8000",
                 public_key=public_key_text(key))
    subject = assertion.Subject("钱多多", make_id_card("330106", date(1991, 2, 3), 77), "face",
                                "2026-12-01T08:00:00+00:00")
    claim = assertion.Navigation("000000", secrets.token_hex(8), "transfer_resale", "330106").claim()
    token = assertion.issue(key, issuer="330000", audience="330100", subject=subject, navigation=claim)
    with httpx.Client(base_url=front_url, timeout=30, trust_env=False) as browser:
        arrived = browser.post("/federation/arrive", data={"assertion": token, "next": "/"})
        assert arrived.status_code == 302, arrived.text[:300]
        assert arrived.headers["Location"] == "/apply/transfer_resale", arrived.headers["Location"]
        landed = browser.get("/apply/transfer_resale")
        assert landed.status_code == 200, (landed.status_code, landed.headers.get("Location"))
        verify = browser.get("/account/verify")  # signed in, and verified by the province's assertion
        assert verify.status_code == 200 and mask_id_number(subject.id_number) in verify.text, verify.status_code
    with httpx.Client(base_url=front_url, timeout=30, trust_env=False) as browser:
        again = browser.post("/federation/arrive", data={"assertion": token},
                             headers={"Accept": "application/json"})
        assert again.status_code == 401 and again.json()["code"] == "request_replayed", again.text
        forged = assertion.issue(private_key(new_federation_key()), issuer="330000", audience="330100",
                                 subject=subject)
        refused = browser.get("/federation/arrive", params={"assertion": forged},
                              headers={"Accept": "application/json"})
        assert refused.status_code == 401 and refused.json()["code"] == "signature_invalid", refused.text
        # signed in by neither, nor by the front: it keeps no cookie of the person before (it did: httpx's jar)
        assert browser.get("/account/verify").status_code == 302 and not browser.cookies


def new_federation_key() -> str:
    """A platform's Ed25519 private key (base64 of 32 bytes), as ``FEDERATION_SIGNING_KEY`` holds it."""
    import base64

    return base64.b64encode(os.urandom(32)).decode()


def assert_forgeries_refused_by_channel(channel_url: str, private_key: str) -> None:
    """Straight to the back office's front channel, past the front: unsigned, foreign-key, tampered, replayed and
    off-list requests are refused; the real key on an allow-listed route passes (the control)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.federation import front_signing
    from app.federation.signing import private_key as load

    key = load(private_key)

    def send(method: str, target: str, body: bytes = b"", *, signer: Ed25519PrivateKey | None = None,
             signed_body: bytes | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        headers = headers if headers is not None else front_signing.signed_headers(
            signer or key, method=method, target=target, client="203.0.113.9",
            body_sha256=front_signing.body_digest(body if signed_body is None else signed_body))
        return httpx.request(method, channel_url + target, content=body, trust_env=False, timeout=30,
                             headers={**headers, "Content-Type": "application/json", "Accept": "application/json"})

    def refused(answer: httpx.Response, status: int, code: str) -> None:
        assert answer.status_code == status, answer.text
        assert answer.json()["code"] == code, answer.text

    refused(send("GET", "/api/v1/business-types", headers={}), 401, "front_unsigned")
    refused(send("GET", "/api/v1/business-types", signer=Ed25519PrivateKey.generate()), 401, "signature_invalid")
    body = b'{"username":"zhangsan","password":"x"}'
    refused(send("POST", "/api/v1/auth/token", body, signed_body=b'{"username":"lisi","password":"x"}'), 401,
            "signature_invalid")
    refused(send("GET", "/workbench/"), 404, "route_not_allowed")  # the right key cannot open a staff route
    refused(send("POST", "/federation/ping"), 404, "route_not_allowed")
    stale = front_signing.signed_headers(key, method="GET", target="/api/v1/business-types", client="203.0.113.9",
                                         body_sha256=front_signing.body_digest(b""), timestamp=1_000_000_000)
    refused(send("GET", "/api/v1/business-types", headers=stale), 401, "request_expired")
    good = front_signing.signed_headers(key, method="GET", target="/api/v1/business-types", client="203.0.113.9",
                                        body_sha256=front_signing.body_digest(b""))
    first = send("GET", "/api/v1/business-types", headers=good)
    assert first.status_code == 200, first.text
    refused(send("GET", "/api/v1/business-types", headers=good), 401, "request_replayed")


def front_secret_names() -> tuple[str, ...]:
    from app.portal_front import FORBIDDEN_ENV

    return FORBIDDEN_ENV

