"""Secure by default (issue 14 §2): each attack that was found is reproduced here and must fail now.

Keys: no key from the repository (a database copy plus the repository's derivation decrypted every holder);
each callback its own secret (a payment callback forged with another secret marked fees paid). Sessions: logout,
a password change and disabling revoke the session and every API token; the cookie holds no bearer token and
has SameSite and the configured lifetime. Headers on every page. Throttling: /track (an ID number guessed in 32
tries), password spraying from one address, five requests locking any staff account, certificate codes. The
demo operator cannot unmask personal data.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from page_fixtures import PageUser
from sqlalchemy import select
from support.personas import PASSWORD
from support.settings import make_settings

from app.cases.sharing.tax import signature
from app.config import KEYS_FILE, REQUIRED_SECRETS, ROOT, ConfigError, Settings, read_keys_file
from app.identifiers import make_id_card
from app.identity.actor import actor_for
from app.identity.models import User
from app.security.crypto import DecryptionFailed, FieldCipher
from app.security.keygen import random_keys, write_keys_file

# What the repository used to derive and print (the attack): never accepted again.
OLD_REPO_SECRET = "dev-tax-callback-secret"


def _old_repo_field_key() -> bytes:
    return hashlib.sha256(b"bdcdj-dev-field").digest()[:16]


def _without_keys(monkeypatch: pytest.MonkeyPatch, instance: Path) -> None:
    for name in (*REQUIRED_SECRETS, "RATELIMIT_STORAGE_URI"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(instance))


# --- keys ------------------------------------------------------------------------------------------------------

def test_a_start_without_configured_keys_refuses_with_a_clear_message(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    _without_keys(monkeypatch, tmp_path)
    with pytest.raises(ConfigError) as refused:
        Settings.from_env()
    message = str(refused.value)
    assert "SECRET_KEY" in message and "FIELD_KEYS" in message and "PAYMENT_CALLBACK_SECRET" in message
    assert "make setup" in message


def test_make_setup_generates_random_development_keys_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _without_keys(monkeypatch, tmp_path / "a")
    assert write_keys_file(tmp_path / "a") and not write_keys_file(tmp_path / "a")  # an existing file is kept
    assert (tmp_path / "a" / KEYS_FILE).stat().st_mode & 0o077 == 0  # owner only
    settings = Settings.from_env()
    assert settings.secret_key == read_keys_file(tmp_path / "a" / KEYS_FILE)["SECRET_KEY"]
    write_keys_file(tmp_path / "b")
    first, second = read_keys_file(tmp_path / "a" / KEYS_FILE), read_keys_file(tmp_path / "b" / KEYS_FILE)
    assert all(first[name] != second[name] for name in REQUIRED_SECRETS if name != "FIELD_ACTIVE_KEY")
    assert settings.tax_callback_secret != settings.payment_callback_secret


def test_production_never_reads_the_development_keys_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _without_keys(monkeypatch, tmp_path)
    write_keys_file(tmp_path)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="environment"):
        Settings.from_env()
    for name, value in random_keys().items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):  # memory counters are per process
        Settings.from_env()


def test_one_secret_for_both_callbacks_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _without_keys(monkeypatch, tmp_path)
    for name, value in random_keys().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PAYMENT_CALLBACK_SECRET", random_keys()["TAX_CALLBACK_SECRET"])
    monkeypatch.setenv("TAX_CALLBACK_SECRET", random_keys()["TAX_CALLBACK_SECRET"])
    Settings.from_env()
    monkeypatch.setenv("PAYMENT_CALLBACK_SECRET", __import__("os").environ["TAX_CALLBACK_SECRET"])
    with pytest.raises(ConfigError, match="own secret"):
        Settings.from_env()


def test_no_key_or_secret_is_printed_in_the_code() -> None:
    printed = re.compile(r"dev-secret-change-me|sim-dev-key|dev-tax-callback-secret|bdcdj-dev-")
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "app").rglob("*.py") if printed.search(p.read_text("utf-8"))]
    assert offenders == []


def test_a_database_copy_with_the_repository_derivation_decrypts_nothing(seeded: Any, db: Any) -> None:
    with db.unit_of_work() as session:
        user = session.execute(select(User).where(User.username == "zhangsan")).scalar_one()
        assert user.real_name == "张三"  # readable with this run's keys
        blob, aad_owner = user.real_name_enc, user.id
    attacker = FieldCipher(keys={"dev1": _old_repo_field_key(), "k1": _old_repo_field_key()},
                           active_key_id="dev1", algorithm="SM4-GCM")
    with pytest.raises(DecryptionFailed):
        attacker.decrypt(blob, f"app_user:real_name:{aad_owner}")
    assert seeded.config["SETTINGS"].field_keys != "dev1:" + base64.b64encode(_old_repo_field_key()).decode()


def _callback(client: Any, path: str, body: dict[str, Any], secret: str) -> Any:
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    return client.post(path, data=raw, content_type="application/json",
                       headers={"X-Timestamp": stamp, "X-Signature": signature(secret, stamp, raw)})


def test_each_callback_has_its_own_secret_and_forgeries_fail(client: Any, seeded: Any) -> None:
    settings = seeded.config["SETTINGS"]
    paid = {"order_no": "JF-FORGED", "status": "已支付", "amount": "80.00"}
    for forged_with in (OLD_REPO_SECRET, settings.tax_callback_secret):  # the repository's, and 税务's
        resp = _callback(client, "/api/v1/callbacks/payment", paid, forged_with)
        assert resp.status_code == 401 and resp.get_json()["code"] == "bad_signature"
    tax_paid = {"business_no": "330106202612030001", "status": "完税", "voucher_no": "FAKE"}
    for forged_with in (OLD_REPO_SECRET, settings.payment_callback_secret):
        assert _callback(client, "/api/v1/callbacks/tax", tax_paid, forged_with).status_code == 401
    # signed with the gateway's own secret, it gets past the signature (and finds no such order)
    genuine = _callback(client, "/api/v1/callbacks/payment", paid, settings.payment_callback_secret)
    assert genuine.status_code == 404


# --- sessions --------------------------------------------------------------------------------------------------

def _api_token(client: Any, username: str) -> str:
    resp = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.get_json()
    return str(resp.get_json()["access_token"])


def _me(client: Any, token: str) -> int:
    return int(client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code)


def _session_cookie(client: Any) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def test_logout_revokes_the_session_and_every_api_token(seeded: Any) -> None:
    browser = PageUser(seeded.test_client(), "xh_acceptor")
    stolen_cookie = _session_cookie(browser.client)
    token = _api_token(seeded.test_client(), "xh_acceptor")
    assert _me(seeded.test_client(), token) == 200 and browser.get("/workbench/").status_code == 200
    assert browser.post_form("/logout", {}).status_code == 302
    assert _me(seeded.test_client(), token) == 401
    replay = seeded.test_client()
    replay.set_cookie("session", stolen_cookie)
    assert replay.get("/workbench/").status_code == 302  # back to the sign-in page


def test_a_password_change_and_disabling_revoke_sessions_and_tokens(seeded: Any, db: Any) -> None:
    ops = PageUser(seeded.test_client(), "ops")
    clerk = PageUser(seeded.test_client(), "xh_reviewer")
    token = _api_token(seeded.test_client(), "xh_reviewer")
    with db.unit_of_work() as session:
        user_id = session.execute(select(User.id).where(User.username == "xh_reviewer")).scalar_one()
    assert ops.post_form(f"/admin/users/{user_id}/password", {"password": "Another#Pass2026"}).status_code == 302
    assert _me(seeded.test_client(), token) == 401 and clerk.get("/workbench/").status_code == 302

    token = seeded.test_client().post("/api/v1/auth/token", json={"username": "xh_reviewer",
                                                                    "password": "Another#Pass2026"}).get_json()
    token = token["access_token"]
    assert ops.post_form(f"/admin/users/{user_id}/active", {"active": "0"}).status_code == 302
    assert ops.post_form(f"/admin/users/{user_id}/active", {"active": "1"}).status_code == 302
    assert _me(seeded.test_client(), token) == 401  # re-enabling does not revive what disabling ended


def test_the_cookie_carries_no_bearer_token_and_has_its_flags(seeded: Any) -> None:
    client = seeded.test_client()
    page = PageUser(client, "xh_acceptor")
    assert page.get("/workbench/").status_code == 200
    with client.session_transaction() as session:
        assert "token" not in session and set(session) >= {"uid", "sv"}
    cookie = _session_cookie(client)
    assert _me(seeded.test_client(), cookie) == 401
    payload = cookie.lstrip(".").split(".")[0]
    assert "token" not in payload

    fresh = seeded.test_client()
    login_page = fresh.get("/login").get_data(as_text=True)
    token = PageUser._token(login_page)
    resp = fresh.post("/login", data={"username": "xh_acceptor", "password": PASSWORD, "csrf_token": token})
    set_cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "SameSite=Lax" in set_cookie and "HttpOnly" in set_cookie and "Secure" not in set_cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", set_cookie).group(1))  # type: ignore[union-attr]
    lifetime = expires.timestamp() - time.time()
    assert abs(lifetime - seeded.config["SETTINGS"].token_ttl_seconds) < 60  # not Flask's 31 days


def test_the_cookie_is_secure_when_served_over_https(database_url: str, tmp_path: Path, simulator: Any) -> None:
    from app import create_app

    application = create_app(make_settings(database_url, tmp_path, integrations_base_url=simulator.url,
                                           session_cookie_secure=True))
    try:
        resp = application.test_client().get("/login", base_url="https://localhost")
        set_cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
        assert "Secure" in set_cookie
        assert "max-age" in resp.headers["Strict-Transport-Security"]
    finally:
        application.extensions["db"].engine.dispose()


def test_a_second_app_in_the_process_leaves_the_first_apps_policy_alone(client: Any, database_url: str,
                                                                         tmp_path: Path) -> None:
    """Found: one Talisman shared by every app kept the last app's options, so a federation test's province app
    (another payment gateway) took the worker app's gateway out of form-action and the portal's pay redirect was
    blocked in the browser tests that ran after it."""
    from app import create_app

    def form_action(headers: Any) -> str:
        return re.search(r"form-action ([^;]*)", headers["Content-Security-Policy"]).group(1)  # type: ignore[union-attr]

    before = form_action(client.get("/login").headers)
    other = create_app(make_settings(database_url, tmp_path, integrations_base_url="http://127.0.0.9:5999",
                                     session_cookie_secure=True))
    try:
        assert "http://127.0.0.9:5999" in form_action(other.test_client().get("/login").headers)
        assert form_action(client.get("/login").headers) == before
    finally:
        other.extensions["db"].engine.dispose()


# --- headers ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/login", "/track", "/verify/NOSUCHCODE", "/login/sms", "/api/v1/openapi.json",
                                  "/no-such-page"])
def test_security_headers_on_every_page(client: Any, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)  # type: ignore[union-attr]
    assert script_src.strip() == "'self'"  # no inline script, no eval
    assert "frame-ancestors 'self'" in csp and headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_templates_hold_no_inline_script_or_handler() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|\son[a-z]+=\"|javascript:")
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in (ROOT / "app" / "templates").rglob("*.html")
             for m in inline.finditer(p.read_text("utf-8"))]
    assert found == []


# --- throttling ------------------------------------------------------------------------------------------------

def _track(client: Any, business_no: str, id_number: str) -> Any:
    token = PageUser._token(client.get("/track").get_data(as_text=True))
    return client.post("/track", data={"business_no": business_no, "name": "张三", "id_number": id_number,
                                       "csrf_token": token})


def _guesses(n: int) -> list[str]:
    return [make_id_card("330106", date(1985, 3, 12), seq) for seq in range(100, 100 + n)]


def test_guessing_an_id_number_on_track_is_stopped(seeded: Any, submitted_transfer: dict) -> None:
    seeded.config["WTF_CSRF_ENABLED"] = True
    attacker = seeded.test_client()
    codes = [_track(attacker, submitted_transfer["business_no"], guess).status_code for guess in _guesses(32)]
    assert codes[:5] == [404] * 5 and set(codes[5:]) == {429}  # found: 32 tries in 0.8 s
    # from other addresses, the business number itself is slowed after a few misses
    others = []
    for n, guess in enumerate(_guesses(3), 1):
        elsewhere = seeded.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        others.append(_track(elsewhere, submitted_transfer["business_no"], guess))
    assert others[-1].status_code == 429 and "该业务号查询失败次数过多" in others[-1].get_data(as_text=True)


def test_password_spraying_from_one_address_is_slowed(seeded: Any, db: Any) -> None:
    with db.unit_of_work() as session:
        staff = session.execute(select(User.username).order_by(User.kind.desc())).scalars().all()
    assert len(staff) >= 17
    sprayer = seeded.test_client()
    codes = [sprayer.post("/api/v1/auth/token", json={"username": name, "password": "Spring@2026"}).status_code
             for name in staff[:17]]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    refused = sprayer.post("/api/v1/auth/token", json={"username": staff[0], "password": "Spring@2026"})
    assert refused.get_json()["code"] == "rate_limited"


def test_five_wrong_passwords_do_not_lock_the_owner_out(seeded: Any) -> None:
    attacker = seeded.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for _ in range(5):
        assert attacker.post("/api/v1/auth/token", json={"username": "xh_recorder", "password": "x"}).status_code == 401
    assert attacker.post("/api/v1/auth/token", json={"username": "xh_recorder", "password": "x"}).status_code == 429
    owner = seeded.test_client()  # from the office's address
    assert owner.post("/api/v1/auth/token", json={"username": "xh_recorder", "password": PASSWORD}).status_code == 200


def test_guessing_certificate_codes_is_slowed(client: Any) -> None:
    codes = [client.get(f"/verify/GUESS{n:04d}").status_code for n in range(12)]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
    api = [client.get("/api/v1/certificates/verify", query_string={"code": f"X{n}"}).status_code for n in range(2)]
    assert api == [429, 429]  # the same address, the same limit


# --- demo operator ---------------------------------------------------------------------------------------------

def test_the_demo_operator_cannot_unmask_personal_data(seeded: Any, db: Any) -> None:
    with db.unit_of_work() as session:
        ops = actor_for(session, session.execute(select(User).where(User.username == "ops")).scalar_one())
        assert not ops.has("pii:unmask") and ops.has("case:read")  # cases masked only
        assert ops.has("user:manage") and ops.has("interface:manage")
