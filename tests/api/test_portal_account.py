"""Applicant accounts in the portal (pages, no JavaScript): sign-up / sign-in by SMS code read from the SMS
simulator, the code's rules (wrong, expired, attempts, rate limits per phone and per address), 实名认证 with
公安 and the face check, organisation accounts with 市场监管, idle sign-out."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from portal_account_helpers import (
    enter_code,
    last_sms,
    post_form,
    request_code,
    sign_up,
    sms_outbox,
    verify_face,
    verify_person,
)
from sqlalchemy import select, update
from support.servers import LiveServer, simulator_control

from app.db import utcnow
from app.identity.models import SmsCode, User
from app.security.fields import blind_index
from app.security.masking import mask_name
from app.security.models import AuditEntry, RateEvent
from simulator.data import DEMO_COMPANY, ZHAO_MIN

NEW_PHONE = ZHAO_MIN["phone"]  # 赵敏 exists at 公安 (simulator) but has no account here


def user_by_phone(app: Flask, phone: str) -> User | None:
    with app.extensions["db"].unit_of_work() as session:
        user = session.execute(select(User).where(User.phone_bidx == blind_index(phone))).scalar_one_or_none()
        if user is not None:
            session.expunge(user)
        return user


def audit_actions(app: Flask, user_id: str) -> list[str]:
    with app.extensions["db"].unit_of_work() as session:
        return list(session.execute(select(AuditEntry.action).where(AuditEntry.object_id == user_id)
                                    .order_by(AuditEntry.seq)).scalars())


def test_a_person_signs_up_by_sms_code_verifies_identity_and_face_and_may_apply(
        seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    sent = request_code(client, NEW_PHONE)
    assert sent.status_code == 200 and "验证码已发送至 138****0004" in sent.get_data(as_text=True)
    code = last_sms(simulator.url, NEW_PHONE)["params"]["code"]
    assert len(code) == 6 and code.isdigit()

    signed_up = enter_code(client, NEW_PHONE, code)
    assert signed_up.status_code == 302 and signed_up.headers["Location"].startswith("/account/verify")
    user = user_by_phone(seeded, NEW_PHONE)
    assert user is not None and user.kind == "applicant" and user.terms_accepted_at is not None
    assert NEW_PHONE.encode() not in (user.phone_enc or b"") and user.verified_at is None
    with seeded.extensions["db"].unit_of_work() as session:  # only a keyed hash of the code is kept
        assert all(code not in row.code_hash for row in session.execute(select(SmsCode)).scalars())

    refused = client.get("/apply/transfer_resale")  # applying needs 实名认证 first
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/account/verify")

    assert verify_person(client, ZHAO_MIN["name"], ZHAO_MIN["id_number"]).headers["Location"].startswith(
        "/account/verify/face")
    assert client.get("/apply/transfer_resale").status_code == 302  # the face check is still missing
    done = verify_face(client)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    user = user_by_phone(seeded, NEW_PHONE)
    assert user is not None and user.verified_at is not None and user.verification_level == "face"
    assert client.get("/apply/transfer_resale").status_code == 200
    page = client.get("/account/verify").get_data(as_text=True)
    assert "已实名认证" in page
    assert user.username not in page and mask_name(ZHAO_MIN["name"]) in page  # the header greets the person, masked
    assert [a for a in audit_actions(seeded, user.id) if a.startswith("user.")] == [
        "user.sign_up", "user.identity_checked", "user.real_name_verified"]


def test_a_registered_phone_signs_in_and_lands_where_it_was_going(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    resp = sign_up(client, simulator.url, "13800000001", signup=False, next_path="/my/applications")
    assert resp.status_code == 302 and resp.headers["Location"] == "/my/applications"  # 张三, verified already
    assert client.get("/my/applications").status_code == 200


def test_a_wrong_code_is_refused_with_the_attempts_left_and_locks_after_five(
        seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    request_code(client, NEW_PHONE)
    right = last_sms(simulator.url, NEW_PHONE)["params"]["code"]
    wrong = "000000" if right != "000000" else "111111"
    first = enter_code(client, NEW_PHONE, wrong)
    page = first.get_data(as_text=True)
    assert first.status_code == 422 and "验证码错误，还可尝试 4 次" in page and 'data-field="code"' in page
    for _ in range(4):
        last = enter_code(client, NEW_PHONE, wrong)
    assert "验证码错误次数过多，请重新获取" in last.get_data(as_text=True)
    locked = enter_code(client, NEW_PHONE, right)
    assert locked.status_code == 422 and "错误次数过多" in locked.get_data(as_text=True)
    assert user_by_phone(seeded, NEW_PHONE) is None


def test_an_expired_code_is_refused(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    request_code(client, NEW_PHONE)
    code = last_sms(simulator.url, NEW_PHONE)["params"]["code"]
    with seeded.extensions["db"].unit_of_work() as session:
        session.execute(update(SmsCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    resp = enter_code(client, NEW_PHONE, code)
    assert resp.status_code == 422 and "验证码已过期，请重新获取" in resp.get_data(as_text=True)


def test_a_newer_code_replaces_the_older_one(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    request_code(client, NEW_PHONE)
    old = last_sms(simulator.url, NEW_PHONE)["params"]["code"]
    _age_rate_events(seeded, timedelta(minutes=2))
    request_code(client, NEW_PHONE)
    new = last_sms(simulator.url, NEW_PHONE)["params"]["code"]
    if old != new:
        assert enter_code(client, NEW_PHONE, old).status_code == 422
    assert enter_code(client, NEW_PHONE, new).status_code == 302


def _age_rate_events(app: Flask, by: timedelta) -> None:
    with app.extensions["db"].unit_of_work() as session:
        for event in session.execute(select(RateEvent)).scalars():
            event.at = event.at - by


def test_codes_are_limited_per_phone_to_one_a_minute_and_five_an_hour(seeded: Flask) -> None:
    client = seeded.test_client()
    assert request_code(client, NEW_PHONE).status_code == 200
    again = request_code(client, NEW_PHONE)
    assert again.status_code == 429 and "验证码发送过于频繁" in again.get_data(as_text=True)
    for _ in range(4):
        _age_rate_events(seeded, timedelta(minutes=2))
        assert request_code(client, NEW_PHONE).status_code == 200
    _age_rate_events(seeded, timedelta(minutes=2))
    hour = request_code(client, NEW_PHONE)
    assert hour.status_code == 429 and "本小时获取验证码次数已达上限" in hour.get_data(as_text=True)


def test_asking_again_within_a_minute_keeps_the_code_field_and_what_was_typed(
        seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    assert request_code(client, NEW_PHONE).status_code == 200
    code = last_sms(simulator.url, NEW_PHONE)["params"]["code"]
    again = post_form(client, "/signup", {"phone": NEW_PHONE, "terms": "yes", "code": "12345", "action": "resend"})
    assert again.status_code == 429
    page = again.get_data(as_text=True)
    assert 'id="code"' in page and 'value="12345"' in page  # the field and what was typed stay
    wait = re.search(r"请 (\d+) 秒后再重新获取验证码，已发送的验证码仍然有效", page)
    assert wait and 1 <= int(wait.group(1)) <= 60, page[:2000]
    assert [m for m in sms_outbox(simulator.url) if m["phone"] == NEW_PHONE and m["template"] == "verify_code"] \
        == [last_sms(simulator.url, NEW_PHONE)]  # nothing sent
    assert enter_code(client, NEW_PHONE, code).status_code == 302  # the code sent first still signs up


def test_asking_again_after_a_minute_sends_a_new_code(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    assert request_code(client, NEW_PHONE).status_code == 200
    _age_rate_events(seeded, timedelta(minutes=2))
    again = post_form(client, "/signup", {"phone": NEW_PHONE, "terms": "yes", "code": "", "action": "resend"})
    assert again.status_code == 200 and "验证码已发送至 138****0004" in again.get_data(as_text=True)
    assert len([m for m in sms_outbox(simulator.url) if m["phone"] == NEW_PHONE]) == 2


def test_codes_are_limited_per_address_across_phones(seeded: Flask) -> None:
    client = seeded.test_client()
    for n in range(5):
        assert request_code(client, f"1390000000{n}").status_code == 200
    sixth = request_code(client, "13900000009")
    assert sixth.status_code == 429 and "操作过于频繁" in sixth.get_data(as_text=True)


def test_bad_phone_numbers_and_missing_terms_are_explained_beside_the_field(seeded: Flask) -> None:
    client = seeded.test_client()
    for phone, message in (("1380000", "手机号码应为11位"), ("12800000000", "手机号码格式不正确"),
                           ("138-0000-000a", "手机号码只能包含数字")):
        resp = request_code(client, phone)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True), phone
    no_terms = request_code(client, NEW_PHONE, terms=False)
    assert no_terms.status_code == 422 and "请阅读并同意《用户须知》" in no_terms.get_data(as_text=True)
    unknown = request_code(client, NEW_PHONE, signup=False)
    assert unknown.status_code == 422 and "该手机号尚未注册，请先注册" in unknown.get_data(as_text=True)


def test_a_bad_id_number_is_refused_before_asking_gongan(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    sign_up(client, simulator.url, NEW_PHONE)
    bad = ZHAO_MIN["id_number"][:17] + ("0" if ZHAO_MIN["id_number"][17] != "0" else "1")
    resp = verify_person(client, ZHAO_MIN["name"], bad)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "身份证号校验位错误" in page
    assert '<div class="field has-error" data-field="id_number">' in page


def test_a_name_gongan_does_not_confirm_is_refused_and_audited(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    sign_up(client, simulator.url, NEW_PHONE)
    simulator_control(simulator, "gongan", "mismatch")
    resp = verify_person(client, ZHAO_MIN["name"], ZHAO_MIN["id_number"])
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "公安核验未通过：姓名与身份证号码不一致" in page
    assert '<div class="field has-error" data-field="real_name">' in page
    user = user_by_phone(seeded, NEW_PHONE)
    assert user is not None and user.id_number is None
    assert "user.identity_check_failed" in audit_actions(seeded, user.id)


def test_a_face_that_does_not_match_is_refused(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    sign_up(client, simulator.url, NEW_PHONE)
    verify_person(client, ZHAO_MIN["name"], ZHAO_MIN["id_number"])
    simulator_control(simulator, "face", "mismatch")
    resp = verify_face(client)
    assert resp.status_code == 422 and "人脸核验未通过" in resp.get_data(as_text=True)
    not_a_photo = post_form(client, "/account/verify/face", {"photo": (__import__("io").BytesIO(b"%PDF-1.4"), "a.jpg")},
                            content_type="multipart/form-data")
    assert "照片应为 JPG 或 PNG 图片" in not_a_photo.get_data(as_text=True)
    user = user_by_phone(seeded, NEW_PHONE)
    assert user is not None and user.verified_at is None


def test_an_id_number_verified_by_another_account_is_refused(seeded: Flask, simulator: LiveServer) -> None:
    from app.demo import ZHANG_SAN

    client = seeded.test_client()
    sign_up(client, simulator.url, NEW_PHONE)
    resp = verify_person(client, ZHANG_SAN["name"], ZHANG_SAN["id_number"])
    assert resp.status_code == 422 and "已在其他账户完成实名认证" in resp.get_data(as_text=True)


def test_an_organisation_account_is_checked_with_market_regulation(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    sign_up(client, simulator.url, "13900001111")
    uscc = DEMO_COMPANY["id_number"]
    good = {"uscc": uscc, "org_name": DEMO_COMPANY["name"], "legal_representative": "周伟"}
    bad_check = uscc[:17] + ("0" if uscc[17] != "0" else "1")
    resp = post_form(client, "/account/organisation", {**good, "uscc": bad_check})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and '<div class="field has-error" data-field="uscc">' in page
    assert "校验" in page
    resp = post_form(client, "/account/organisation", {**good, "legal_representative": "王五"})
    assert resp.status_code == 422 and "法定代表人与登记信息不一致" in resp.get_data(as_text=True)
    resp = post_form(client, "/account/organisation", {**good, "org_name": "杭州别的公司"})
    assert resp.status_code == 422 and "单位名称与营业执照登记不一致" in resp.get_data(as_text=True)

    done = post_form(client, "/account/organisation", good)
    assert done.status_code == 302
    user = user_by_phone(seeded, "13900001111")
    assert user is not None and user.kind == "institution" and user.role_codes == ["institution"]
    assert user.id_number == uscc and user.verification_level == "organisation"
    assert f"单位账户：{DEMO_COMPANY['name']}" in client.get("/account/verify").get_data(as_text=True)


def _idle(client: Any, seconds: int) -> None:
    with client.session_transaction() as sess:
        sess["seen"] = int(sess.get("seen") or 0) - seconds


def test_an_idle_applicant_is_signed_out_but_an_active_one_is_not(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    sign_up(client, simulator.url, "13800000001", signup=False)
    assert client.get("/my/applications").status_code == 200
    _idle(client, 60)  # well inside the 30-minute default
    assert client.get("/my/applications").status_code == 200
    _idle(client, seeded.config["SETTINGS"].portal_idle_timeout_seconds + 1)
    out = client.get("/my/applications")
    assert out.status_code == 302 and out.headers["Location"].startswith("/login/sms")
    assert "自动退出" in client.get(out.headers["Location"]).get_data(as_text=True)
    assert client.get("/my/applications").status_code == 302


def test_logging_out_ends_the_session(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    sign_up(client, simulator.url, "13800000001", signup=False)
    assert post_form(client, "/logout", {}).status_code == 302
    assert client.get("/my/applications").status_code == 302


def test_old_codes_and_rate_events_are_pruned_by_the_job(seeded: Flask) -> None:
    from app.jobs import prune_sign_in_records

    client = seeded.test_client()
    request_code(client, NEW_PHONE)
    assert prune_sign_in_records_now(seeded, prune_sign_in_records) == 0  # fresh ones stay
    with seeded.extensions["db"].unit_of_work() as session:
        session.execute(update(SmsCode).values(expires_at=utcnow() - timedelta(days=2)))
    _age_rate_events(seeded, timedelta(days=2))
    assert prune_sign_in_records_now(seeded, prune_sign_in_records) == 3  # the code, the phone and address events


def prune_sign_in_records_now(app: Flask, job: Any) -> int:
    with app.extensions["db"].unit_of_work() as session:
        return int(job(session))


def test_behind_a_trusted_proxy_the_address_limit_counts_each_client(seeded: Flask, database_url: str,
                                                                     tmp_path: Any, simulator: LiveServer) -> None:
    from support.settings import make_settings

    from app import create_app

    proxied = create_app(make_settings(database_url, tmp_path, integrations_base_url=simulator.url,
                                       trusted_proxies=1))
    try:
        for n in range(6):  # six people behind the same load balancer
            client = proxied.test_client()
            client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n}"
            assert request_code(client, f"1390000001{n}").status_code == 200
        same = proxied.test_client()
        same.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.0"
        for n in range(4):
            assert request_code(same, f"1390000002{n}").status_code == 200
        assert request_code(same, "13900000029").status_code == 429  # 203.0.113.0's sixth in a minute
    finally:
        proxied.extensions["db"].engine.dispose()


def test_departments_that_are_down_are_explained_and_nothing_is_half_done(seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    simulator_control(simulator, "sms", "fail")
    down = request_code(client, NEW_PHONE)
    assert down.status_code == 503 and "短信平台服务暂不可用，请稍后重试" in down.get_data(as_text=True)
    simulator_control(simulator, "sms", "ok")
    assert request_code(client, NEW_PHONE).status_code == 200  # the failed send was not counted
    enter_code(client, NEW_PHONE, last_sms(simulator.url, NEW_PHONE)["params"]["code"])
    simulator_control(simulator, "gongan", "fail")
    resp = verify_person(client, ZHAO_MIN["name"], ZHAO_MIN["id_number"])
    assert resp.status_code == 503 and "公安身份核验服务暂不可用" in resp.get_data(as_text=True)
    user = user_by_phone(seeded, NEW_PHONE)
    assert user is not None and user.id_number is None and user.verification_level is None


def test_a_code_asked_for_on_sign_up_does_not_open_an_account_from_the_login_page(
        seeded: Flask, simulator: LiveServer) -> None:
    client = seeded.test_client()
    request_code(client, NEW_PHONE)
    resp = enter_code(client, NEW_PHONE, last_sms(simulator.url, NEW_PHONE)["params"]["code"], signup=False)
    assert resp.status_code == 422 and "该手机号尚未注册，请先注册" in resp.get_data(as_text=True)
    assert user_by_phone(seeded, NEW_PHONE) is None
