"""Sign-in protection: the password policy, growing delays after repeated failures (held in the database per
account and client address, audited, over the API and the login page alike; never a lockout of the owner), the
idle timeout of staff page sessions, and TOTP as a second factor for staff (enrolled with a QR code, asked for
at sign-in on the page and in the API)."""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pyotp
from page_fixtures import PageUser
from sqlalchemy import select

from app.db import utcnow
from app.demo import DEMO_PASSWORD
from app.identity.models import User
from app.identity.signin import password_problems
from app.security.models import AuditEntry
from app.security.throttle import limiter


def _token(client: Any, username: str, password: str, **extra: Any) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password, **extra})


def _login_form(client: Any, username: str, password: str, path: str = "/login") -> Any:
    token = PageUser._token(client.get("/login").get_data(as_text=True))
    return client.post(path, data={"username": username, "password": password, "csrf_token": token})


def _user(db: Any, username: str) -> User:
    with db.unit_of_work() as session:
        return session.execute(select(User).where(User.username == username)).scalar_one()


def test_password_policy_rules(seeded: Any) -> None:
    assert password_problems("Demo@2026", "xh_acceptor") == []
    assert password_problems("short1A", "bob") == ["密码至少 8 位"]
    assert password_problems("alllowercase", "bob") == ["密码须包含小写字母、大写字母、数字、其他字符中的至少 3 类"]
    assert password_problems("Xh_Acceptor#1", "xh_acceptor") == ["密码不能包含用户名"]
    refused = seeded.test_cli_runner().invoke(args=["users", "create", "weak_one", "--password", "password",
                                                    "--role", "acceptor", "--tenant", "330106"])
    assert refused.exit_code == 1 and "至少 3 类" in refused.output


def _age_failures(db: Any, seconds: int) -> None:
    """Move every recorded failure back in time (instead of sleeping through a delay)."""
    from app.security.models import RateEvent

    with db.unit_of_work() as session:
        for event in session.execute(select(RateEvent)).scalars():
            event.at = event.at - timedelta(seconds=seconds)


def test_repeated_failures_delay_the_next_attempt_held_in_the_database_and_audited(client: Any, db: Any,
                                                                                     page_login: Any) -> None:
    for attempt in range(1, 6):
        assert _token(client, "xh_reviewer", "wrong").get_json()["code"] == "bad_credentials"
        assert _user(db, "xh_reviewer").failed_logins == attempt  # kept although the answer was 401
    assert _token(client, "xh_reviewer", DEMO_PASSWORD).status_code == 429  # this address's limit (flask-limiter)
    limiter.reset()  # that aside, the account's own delay for this address holds (in the database):
    delayed = _token(client, "xh_reviewer", DEMO_PASSWORD)  # even the right password waits
    assert delayed.status_code == 429 and delayed.get_json()["code"] == "rate_limited"
    assert "秒后再试" in delayed.get_json()["detail"]
    page = _login_form(client, "xh_reviewer", DEMO_PASSWORD)
    assert page.status_code == 429 and "秒后再试" in page.get_data(as_text=True)
    user = _user(db, "xh_reviewer")
    assert user.locked_until is not None and user.locked_until <= utcnow() + timedelta(seconds=3)
    with db.unit_of_work() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "user.sign_in_delayed")).scalars().all()
        assert [e.object_id for e in entries] == [user.id] and entries[0].after["after_failures"] == 5

    _age_failures(db, 3)  # the two-second delay has run out
    assert _token(client, "xh_reviewer", DEMO_PASSWORD).status_code == 200
    assert _user(db, "xh_reviewer").failed_logins == 0


def test_failures_on_the_login_page_count_and_an_operator_unlocks(seeded: Any, db: Any, page_login: Any) -> None:
    other = seeded.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(5):
        assert _login_form(other, "yh_recorder", "nope").status_code == 401
    assert _login_form(other, "yh_recorder", "nope").status_code == 429  # the address's limit (flask-limiter)
    assert _user(db, "yh_recorder").locked_until is not None
    ops = page_login("ops")  # the operator, from another address, is not slowed
    user_id = _user(db, "yh_recorder").id
    assert "解除锁定" in ops.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert ops.post_form(f"/admin/users/{user_id}/unlock", {}).status_code == 302
    from app.security.models import RateEvent

    with db.unit_of_work() as session:  # the account's delays are gone
        assert not session.execute(select(RateEvent).where(RateEvent.key.like(f"signin:{user_id}:%"))).first()
    limiter.reset()  # (the address's own limit is flask-limiter's, not the account's)
    assert _token(other, "yh_recorder", DEMO_PASSWORD).status_code == 200


def test_staff_page_sessions_end_after_the_idle_timeout(seeded: Any, page_login: Any) -> None:
    clerk = page_login("xh_acceptor")
    assert clerk.get("/workbench/").status_code == 200
    with clerk.client.session_transaction() as session:
        session["seen"] = int(time.time()) - 29 * 60
    assert clerk.get("/workbench/").status_code == 200  # still within 30 minutes; this request renews it
    with clerk.client.session_transaction() as session:
        assert session["seen"] >= int(time.time()) - 5
        session["seen"] = int(time.time()) - 31 * 60
    expired = clerk.get("/workbench/")
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/login")
    assert "超过 30 分钟未操作" in clerk.get("/login").get_data(as_text=True)
    assert clerk.get("/workbench/").status_code == 302  # signed out for good


def test_totp_enrolment_and_sign_in(seeded: Any, db: Any, page_login: Any, client: Any) -> None:
    reviewer = page_login("xh_reviewer")
    assert "未启用" in reviewer.get("/account/security").get_data(as_text=True)
    assert reviewer.post_form("/account/security/totp", {}).status_code == 302
    page = reviewer.get("/account/security").get_data(as_text=True)
    assert 'id="totp-qr"' in page and "<svg" in page
    secret = _user(db, "xh_reviewer").totp_secret
    assert secret and f">{secret}<" in page
    wrong = reviewer.post_form("/account/security/totp/confirm", {"code": "000000"})
    assert wrong.status_code == 422 and not _user(db, "xh_reviewer").totp_enabled
    totp = pyotp.TOTP(secret)
    assert reviewer.post_form("/account/security/totp/confirm", {"code": totp.now()}).status_code == 302
    assert _user(db, "xh_reviewer").totp_enabled

    browser = seeded.test_client()
    step_one = _login_form(browser, "xh_reviewer", DEMO_PASSWORD, "/login?next=/workbench/")
    assert step_one.status_code == 302 and step_one.headers["Location"].startswith("/login/totp")
    assert browser.get("/workbench/").status_code == 302  # the password alone did not sign in
    csrf = PageUser._token(browser.get(step_one.headers["Location"]).get_data(as_text=True))
    bad = browser.post(step_one.headers["Location"], data={"code": "123456", "csrf_token": csrf})
    assert bad.status_code == 401 and "动态验证码不正确" in bad.get_data(as_text=True)
    good = browser.post(step_one.headers["Location"], data={"code": totp.now(), "csrf_token": csrf})
    assert good.status_code == 302 and good.headers["Location"] == "/workbench/"
    assert browser.get("/workbench/").status_code == 200

    missing = _token(client, "xh_reviewer", DEMO_PASSWORD)
    assert missing.status_code == 401 and missing.get_json()["code"] == "otp_required"
    assert _token(client, "xh_reviewer", DEMO_PASSWORD, otp="999999").get_json()["code"] == "bad_otp"
    assert _token(client, "xh_reviewer", DEMO_PASSWORD, otp=totp.now()).status_code == 200

    ops = page_login("ops")
    user_id = _user(db, "xh_reviewer").id
    assert ops.post_form(f"/admin/users/{user_id}/totp-reset", {}).status_code == 302
    assert _token(client, "xh_reviewer", DEMO_PASSWORD).status_code == 200
    with db.unit_of_work() as session:
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.object_id == user_id)
                                  .order_by(AuditEntry.seq)).scalars().all()
    assert actions[-2:] == ["user.totp_enabled", "user.totp_reset"]
