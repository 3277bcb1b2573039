"""Over the internet zone only its own users sign in (docs/zones.md, app/identity/zones.py): applicants and
institution accounts. A staff account arriving through the front channel (the WSGI environ's ``bdcdj.zone``,
which the channel sets and no header can) is refused at every way in — the password form, its TOTP step, the
API's token, the SMS code — with the answer a wrong password (or code, or unknown phone) gets, audited
``user.sign_in_refused`` with reason ``zone``; and a staff session or token made on the staff listener is
refused over the internet zone too. The same requests without the mark (the staff listener) work as before."""
from __future__ import annotations

from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from page_fixtures import PageUser
from sqlalchemy import select

from app.demo import DEMO_PASSWORD
from app.identity.models import User
from app.identity.zones import INTERNET, ZONE_KEY
from app.security.models import AuditEntry

INTERNET_ZONE = {ZONE_KEY: INTERNET}


def _token(client: FlaskClient, username: str, password: str, *, zone: dict[str, str] | None = None,
           **extra: Any) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password, **extra},
                       environ_base=zone or {})


def _user(seeded: Flask, username: str) -> User:
    with seeded.extensions["db"].unit_of_work() as session:
        return session.execute(select(User).where(User.username == username)).scalar_one()


def _refusals(seeded: Flask) -> list[tuple[str | None, dict[str, Any]]]:
    with seeded.extensions["db"].unit_of_work() as session:
        return [(e.object_id, e.after) for e in session.execute(
            select(AuditEntry).where(AuditEntry.action == "user.sign_in_refused").order_by(AuditEntry.seq)).scalars()]


def _refusal(user: User, channel: str) -> tuple[str | None, dict[str, Any]]:
    return user.id, {"reason": "zone", "zone": "internet", "channel": channel, "kind": user.kind}


def _login_form(client: FlaskClient, username: str, password: str, zone: dict[str, str] | None = None) -> Any:
    csrf = PageUser._token(client.get("/login", environ_base=zone or {}).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf},
                       environ_base=zone or {})


def test_a_staff_token_request_over_the_internet_zone_is_answered_as_a_wrong_password(seeded: Flask,
                                                                                       client: FlaskClient) -> None:
    clerk = _user(seeded, "xh_acceptor")
    refused = _token(client, "xh_acceptor", DEMO_PASSWORD, zone=INTERNET_ZONE)
    wrong = _token(client, "xh_acceptor", "Wrong@2026x")  # the staff listener, a wrong password
    unknown = _token(client, "nobody_here", DEMO_PASSWORD, zone=INTERNET_ZONE)
    assert refused.status_code == wrong.status_code == unknown.status_code == 401
    assert refused.get_json() == wrong.get_json() == unknown.get_json()  # nothing tells the three apart
    assert refused.get_json()["code"] == "bad_credentials"
    # refused before the password is checked: a wrong one over the internet gets the same, and nothing counts
    # towards the clerk's sign-in delays from there
    assert _token(client, "xh_acceptor", "Wrong@2026x", zone=INTERNET_ZONE).get_json() == wrong.get_json()
    assert _user(seeded, "xh_acceptor").failed_logins == 1  # the one wrong password on the staff listener
    assert _refusals(seeded) == [_refusal(clerk, "password")] * 2
    # the same account on the staff listener, and the internet zone's own users through the zone, sign in
    assert _token(client, "xh_acceptor", DEMO_PASSWORD).status_code == 200
    for username in ("zhangsan", "bank"):
        answer = _token(client, username, DEMO_PASSWORD, zone=INTERNET_ZONE)
        assert answer.status_code == 200, (username, answer.get_json())
    other_address = {**INTERNET_ZONE, "REMOTE_ADDR": "198.51.100.20"}  # past the per-address limit of failures
    for username in ("analyst", "admin"):
        assert _token(client, username, DEMO_PASSWORD, zone=other_address).get_json()["code"] == "bad_credentials"
    assert len(_refusals(seeded)) == 4


def test_the_password_form_over_the_internet_zone_refuses_staff_as_a_wrong_password(seeded: Flask) -> None:
    browser = seeded.test_client()
    refused = _login_form(browser, "admin", DEMO_PASSWORD, INTERNET_ZONE)
    wrong = _login_form(seeded.test_client(), "admin", "Wrong@2026x")
    assert refused.status_code == wrong.status_code == 401
    assert "用户名或密码错误" in refused.get_data(as_text=True)
    assert browser.get("/admin/", environ_base=INTERNET_ZONE).status_code == 302  # not signed in
    assert _refusals(seeded) == [_refusal(_user(seeded, "admin"), "password")]
    applicant = seeded.test_client()
    assert _login_form(applicant, "zhangsan", DEMO_PASSWORD, INTERNET_ZONE).status_code == 302
    assert applicant.get("/my/applications", environ_base=INTERNET_ZONE).status_code == 200


def test_the_totp_step_over_the_internet_zone_refuses_staff_as_a_wrong_code(seeded: Flask) -> None:
    """The password step done on the staff listener, the code sent over the internet zone (the session cookie
    is the same application's): refused even with the right code, as a wrong one."""
    with seeded.extensions["db"].unit_of_work() as session:
        reviewer = session.execute(select(User).where(User.username == "xh_reviewer")).scalar_one()
        reviewer.totp_secret, reviewer.totp_enabled = pyotp.random_base32(), True
        secret = reviewer.totp_secret
    browser = seeded.test_client()
    step_one = _login_form(browser, "xh_reviewer", DEMO_PASSWORD)
    assert step_one.status_code == 302 and step_one.headers["Location"].startswith("/login/totp")
    csrf = PageUser._token(browser.get(step_one.headers["Location"]).get_data(as_text=True))
    refused = browser.post(step_one.headers["Location"], data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf},
                           environ_base=INTERNET_ZONE)
    assert refused.status_code == 401 and "动态验证码不正确" in refused.get_data(as_text=True)
    assert browser.get("/workbench/").status_code == 302  # not signed in
    assert _refusals(seeded) == [_refusal(_user(seeded, "xh_reviewer"), "totp")]
    # the API's token with the right code: refused at the password already
    assert _token(browser, "xh_reviewer", DEMO_PASSWORD, zone=INTERNET_ZONE,
                  otp=pyotp.TOTP(secret).now()).get_json()["code"] == "bad_credentials"


def test_a_staff_session_or_token_made_on_the_staff_listener_is_refused_over_the_internet_zone(
        seeded: Flask, client: FlaskClient) -> None:
    clerk = _user(seeded, "xh_acceptor")
    bearer = {"Authorization": f"Bearer {_token(client, 'xh_acceptor', DEMO_PASSWORD).get_json()['access_token']}"}
    # the staff listener takes the token (a clerk lists no applications of their own: 403), the internet zone not
    assert client.get("/api/v1/applications", headers=bearer).status_code == 403
    over_internet = client.get("/api/v1/applications", headers=bearer, environ_base=INTERNET_ZONE)
    assert over_internet.status_code == 401 and over_internet.get_json()["code"] == "bad_token"
    assert _refusals(seeded) == [_refusal(clerk, "token")]  # once per request

    browser = seeded.test_client()
    assert _login_form(browser, "xh_acceptor", DEMO_PASSWORD).status_code == 302
    assert browser.get("/account/security").status_code == 200  # an allow-listed page staff may open
    page = browser.get("/account/security", environ_base=INTERNET_ZONE)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert _refusals(seeded)[-1] == _refusal(clerk, "session")
    assert browser.get("/workbench/").status_code == 302  # the refused session was ended, on every listener

    applicant = {"Authorization": f"Bearer {_token(client, 'zhangsan', DEMO_PASSWORD).get_json()['access_token']}"}
    assert client.get("/api/v1/applications", headers=applicant, environ_base=INTERNET_ZONE).status_code == 200
    assert len(_refusals(seeded)) == 2


def test_the_sms_sign_in_knows_no_staff_phone(seeded: Flask, client: FlaskClient) -> None:
    """The SMS code signs in only applicant and institution accounts (app/accounts/sms_login.py): a staff
    member's phone is answered as an unregistered one, over any listener."""
    with seeded.extensions["db"].unit_of_work() as session:
        clerk = session.execute(select(User).where(User.username == "xh_acceptor")).scalar_one()
        clerk.phone = "13900001111"
    csrf = PageUser._token(client.get("/login/sms", environ_base=INTERNET_ZONE).get_data(as_text=True))
    answer = client.post("/login/sms", data={"phone": "13900001111", "action": "send", "csrf_token": csrf},
                         environ_base=INTERNET_ZONE)
    assert answer.status_code == 422 and "该手机号尚未注册" in answer.get_data(as_text=True)
