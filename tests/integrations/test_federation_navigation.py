"""Link navigation across three platforms (issue 20 §1): a verified applicant at the national entrance chooses a
region and a business type (or gives a 不动产单元代码) and 去办理 takes them — by auto-submitted forms carrying
signed assertions — to the province, which passes them on to the city, where they land signed in on the type's
new-application page with the navigation's origin in their session, never asked to verify again."""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask import Flask
from sqlalchemy import select
from support.cases import take_through
from support.federation_nav import (
    CITY,
    NATIONAL,
    PROVINCE,
    Federation,
    csrf_token,
    hop_form,
    sign_in,
    three_platforms,
    trust,
)
from support.forms import upload_missing

from app.casefile.models import Case
from app.demo import ZHANG_SAN
from app.federation import assertion
from app.federation.forward_models import FederatedCase
from app.federation.nav_models import Navigation
from app.identifiers import make_unit_code
from app.identity.models import User
from app.integrations.outbox import deliver_pending
from app.security.models import AuditEntry

ZHANG_SAN_FLAT = make_unit_code("330106", 1, 1, "GB", 100, 1, 101)  # 西湖区 demo unit 1, his


@pytest.fixture
def federation(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
               tmp_path: Path) -> Iterator[Federation]:
    with three_platforms(seeded, base_database_url, database_templates, tmp_path) as platforms:
        yield platforms


def _go(national: httpx.Client, **form: str) -> httpx.Response:
    token = csrf_token(national.get("/national").text)
    return national.post("/national/go", data={**form, "csrf_token": token})


def _form_action(page: httpx.Response) -> list[str]:
    """The origins the page's forms may post to (CSP form-action): the next platform's, for this page only."""
    directives = dict(d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";"))
    return directives["form-action"].split()


def _follow(federation: Federation, hop_page: httpx.Response) -> tuple[httpx.Client, httpx.Response]:
    """The browser posts the national hop to the province, the province's hop to the city: the city's answer."""
    assert hop_page.status_code == 200, hop_page.text[:500]
    action, fields = hop_form(hop_page.text)
    assert action == federation.province.url + "/federation/arrive"
    assert federation.province.url in _form_action(hop_page)
    assert hop_page.headers["Cache-Control"] == "no-store"  # the assertion names the person
    province = federation.province.browser()
    passed = province.post(action, data=fields)
    assert passed.status_code == 200, passed.text[:500]
    action, fields = hop_form(passed.text)
    assert action == federation.city.url + "/federation/arrive"
    assert federation.city.url in _form_action(passed)
    city = federation.city.browser()
    return city, city.post(action, data=fields)


def _session_of(app: Flask, browser: httpx.Client) -> dict[str, object]:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return dict(serializer.loads(browser.cookies["session"]))


def test_navigation_lands_signed_in_on_the_city_application_page(federation: Federation) -> None:
    national = federation.national.browser()
    sign_in(national, "zhangsan")
    entrance = national.get("/national")
    assert entrance.status_code == 200
    assert "浙江省" in entrance.text and "/national/apply" in entrance.text
    assert national.get("/").headers["Location"] == "/national"  # the front page is the entrance
    chooser = national.get("/national", params={"province": PROVINCE, "city": CITY})
    assert "西湖区" in chooser.text and "余杭区" in chooser.text and "二手房转移登记" in chooser.text

    city, landed = _follow(federation, _go(national, province=PROVINCE, city=CITY, target="330106",
                                           business_type="transfer_resale"))
    assert landed.status_code == 302, landed.text[:500]
    assert landed.headers["Location"] == "/apply/transfer_resale"
    page = city.get("/apply/transfer_resale")
    assert page.status_code == 200, page.headers.get("Location")  # signed in and verified: no 实名认证 asked
    assert "不动产单元" in page.text

    with federation.national.unit_of_work() as session:
        navigation = session.execute(select(Navigation)).scalars().one()
        zhangsan = session.execute(select(User.id).where(User.username == "zhangsan")).scalar_one()
        assert (navigation.user_id, navigation.business_type_code, navigation.target_code, navigation.province_code,
                navigation.city_code) == (zhangsan, "transfer_resale", "330106", PROVINCE, CITY)
    origin = _session_of(federation.city.app, city)["federation_origin"]
    assert origin == {"platform": NATIONAL, "ref": navigation.id, "via": PROVINCE, "type": "transfer_resale",
                      "target": "330106"}
    with federation.city.unit_of_work() as session:
        arrived = session.execute(select(AuditEntry.after).where(
            AuditEntry.action == "federation.identity_arrived")).scalars().one()
        city_zhangsan = session.execute(select(User).where(User.username == "zhangsan")).scalars().one()
        assert city_zhangsan.verification_level != assertion.VERIFIED_VIA  # his own account, his own 实名认证
    assert arrived["navigation"] == {"origin": NATIONAL, "ref": navigation.id, "type": "transfer_resale",
                                     "target": "330106"}
    assert ZHANG_SAN["id_number"] not in json.dumps(arrived)
    with federation.province.unit_of_work() as session:
        passed = session.execute(select(AuditEntry.after).where(
            AuditEntry.action == "federation.navigation_passed_on")).scalars().one()
    assert passed == {"origin": NATIONAL, "ref": navigation.id, "type": "transfer_resale", "city": CITY}

    listed = national.get("/national")  # the national page lists the person's navigations
    assert "我的导航记录" in listed.text and "西湖区（330106）" in listed.text
    assert "二手房转移登记（存量房转移登记）" in listed.text
    assert city.get("/national").status_code == 404  # the entrance is the national platform's only


def test_a_unit_code_tells_where_and_the_city_opens_that_unit(federation: Federation) -> None:
    national = federation.national.browser()
    sign_in(national, "zhangsan")
    spaced = f"{ZHANG_SAN_FLAT[:6]} {ZHANG_SAN_FLAT[6:12]} {ZHANG_SAN_FLAT[12:19]} {ZHANG_SAN_FLAT[19:]}"
    city, landed = _follow(federation, _go(national, unit_code=spaced, business_type="transfer_resale"))
    assert landed.status_code == 302, landed.text[:500]
    location = urlsplit(landed.headers["Location"])
    assert location.path == "/apply/transfer_resale"
    assert parse_qs(location.query) == {"unit_code": [ZHANG_SAN_FLAT]}
    form = city.get(landed.headers["Location"])
    assert form.status_code == 200, form.text[:300]
    assert ZHANG_SAN_FLAT in form.text  # the application form, the unit filled in
    with federation.national.unit_of_work() as session:
        row = session.execute(select(Navigation)).scalars().one()
        assert (row.target_code, row.city_code, row.unit_code) == ("330106", CITY, ZHANG_SAN_FLAT)


def test_bad_unit_codes_and_unconnected_regions_are_told_in_chinese(federation: Federation) -> None:
    national = federation.national.browser()
    sign_in(national, "zhangsan")
    beijing_unit = make_unit_code("110101", 1, 1, "GB", 100, 1, 101)
    cases = {
        "123": "不动产单元代码应为28位",
        ZHANG_SAN_FLAT[:27] + "X": "不动产单元代码格式不正确",
        "999999" + ZHANG_SAN_FLAT[6:]: "不是现行县级行政区划代码",
        beijing_unit: "北京市尚未接入全国平台",
    }
    for unit_code, message in cases.items():
        refused = _go(national, unit_code=unit_code, business_type="transfer_resale")
        assert refused.status_code == 422, (unit_code, refused.text[:300])
        assert message in refused.text, unit_code
    no_type = _go(national, unit_code=ZHANG_SAN_FLAT, business_type="")
    assert no_type.status_code == 422 and "请选择要办理的业务" in no_type.text
    elsewhere = _go(national, province=PROVINCE, city=CITY, target="110101", business_type="transfer_resale")
    assert elsewhere.status_code == 422 and "所选地区不在所选省份内" in elsewhere.text
    with federation.national.unit_of_work() as session:
        assert session.execute(select(Navigation.id)).all() == []


def test_sign_in_first_and_verify_first(federation: Federation) -> None:
    anonymous = federation.national.browser()
    token = csrf_token(anonymous.get("/national").text)
    asked = anonymous.post("/national/go", data={"csrf_token": token, "unit_code": ZHANG_SAN_FLAT,
                                                 "business_type": "transfer_resale"})
    assert asked.status_code == 302
    assert urlsplit(asked.headers["Location"]).path == "/login"
    assert "/national" in parse_qs(urlsplit(asked.headers["Location"]).query)["next"][0]
    with federation.national.unit_of_work() as session:  # an applicant who has not done 实名认证 yet
        user = session.execute(select(User).where(User.username == "zhangsan")).scalars().one()
        user.verified_at, user.id_number, user.real_name = None, None, None
    unverified = federation.national.browser()
    sign_in(unverified, "zhangsan")
    asked = _go(unverified, unit_code=ZHANG_SAN_FLAT, business_type="transfer_resale")
    assert asked.status_code == 302
    assert urlsplit(asked.headers["Location"]).path == "/account/verify"
    staff = federation.national.browser()
    sign_in(staff, "xh_acceptor")
    refused = _go(staff, unit_code=ZHANG_SAN_FLAT, business_type="transfer_resale")
    assert refused.status_code == 403 and "工作人员账户不能在此办理业务" in refused.text
    with federation.national.unit_of_work() as session:
        assert session.execute(select(Navigation.id)).all() == []


def _tampered(token: str, change: dict[str, object]) -> str:
    body, _, signature = token.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["nav"].update(change)
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=") + "." + signature


def test_tampered_expired_and_misrouted_navigations_are_refused(federation: Federation) -> None:
    national = federation.national.browser()
    sign_in(national, "zhangsan")
    hop = _go(national, province=PROVINCE, city=CITY, target="330106", business_type="transfer_resale")
    action, fields = hop_form(hop.text)
    province = federation.province.browser()
    changed = province.post(action, data={**fields, "assertion": _tampered(fields["assertion"],
                                                                          {"target": "330205"})})
    assert changed.status_code == 403 and "身份断言签名验证失败" in changed.text
    passed = province.post(action, data=fields)
    city_action, city_fields = hop_form(passed.text)
    city = federation.city.browser()
    tampered = city.post(city_action, data={**city_fields, "assertion": _tampered(city_fields["assertion"],
                                                                                 {"type": "mortgage_first"})})
    assert tampered.status_code == 403 and "身份断言签名验证失败" in tampered.text
    assert "uid" not in _session_of(federation.city.app, city)  # not signed in

    subject = assertion.Subject(ZHANG_SAN["name"], ZHANG_SAN["id_number"], "face", "2026-12-01T08:00:00+00:00")
    claim = {"origin": NATIONAL, "ref": "nav-ref-0001", "type": "transfer_resale", "target": "330106"}
    expired = assertion.issue(federation.province.key, issuer=PROVINCE, audience=CITY, subject=subject,
                              navigation=claim, now=time.time() - 3600)
    refused = city.post(city_action, data={"assertion": expired}, headers={"Accept": "application/json"})
    assert refused.status_code == 401 and refused.json()["code"] == "request_expired"

    # the province refuses a target outside it and a city it is not connected with
    for target, code in (("320102", "wrong_target"), ("330203", "city_not_connected")):
        misrouted = assertion.issue(federation.national.key, issuer=NATIONAL, audience=PROVINCE, subject=subject,
                                    navigation={**claim, "target": target})
        answer = province.post(action, data={"assertion": misrouted}, headers={"Accept": "application/json"})
        assert answer.status_code == 403 and answer.json()["code"] == code, answer.text
    # a city refuses a navigation to another city, even one its province signed
    other = assertion.issue(federation.province.key, issuer=PROVINCE, audience=CITY, subject=subject,
                            navigation={**claim, "target": "330203"})
    answer = city.post(city_action, data={"assertion": other}, headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["code"] == "wrong_target"
    # a navigation comes from the national platform through the province, from no one else
    from_city = assertion.issue(federation.city.key, issuer=CITY, audience=PROVINCE, subject=subject,
                                navigation={**claim, "origin": CITY})
    answer = province.post(action, data={"assertion": from_city}, headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["code"] == "wrong_issuer", answer.text
    trust(federation.city, federation.national)
    skipping = assertion.issue(federation.national.key, issuer=NATIONAL, audience=CITY, subject=subject,
                               navigation=claim)
    answer = city.post(city_action, data={"assertion": skipping}, headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["code"] == "wrong_issuer", answer.text
    bad_claim = assertion.issue(federation.province.key, issuer=PROVINCE, audience=CITY, subject=subject,
                                navigation={**claim, "type": "../admin"})
    answer = city.post(city_action, data={"assertion": bad_claim}, headers={"Accept": "application/json"})
    assert answer.status_code == 401 and answer.json()["code"] == "assertion_invalid"
    with federation.city.unit_of_work() as session:
        assert session.execute(select(AuditEntry.seq).where(
            AuditEntry.action == "federation.identity_arrived")).all() == []


def test_a_case_begun_by_link_navigation_reports_its_progress_back_to_the_national_page(
        federation: Federation, login: Any) -> None:
    """The city keeps the navigation as the case's origin; every step it reports to the province carries it, the
    province relays those reports up, and the person sees the steps and the certificate on /national/my."""
    national = federation.national.browser()
    sign_in(national, "zhangsan")
    city, landed = _follow(federation, _go(national, unit_code=ZHANG_SAN_FLAT, business_type="holder_change"))
    assert landed.status_code == 302, landed.text[:500]
    page = city.get(landed.headers["Location"])
    assert page.status_code == 200, page.text[:500]
    created = city.post(landed.headers["Location"], data={
        "csrf_token": csrf_token(page.text), "unit_code": ZHANG_SAN_FLAT, "holder_name": ZHANG_SAN["name"],
        "holder_id_number": ZHANG_SAN["id_number"], "new_name": "张叁", "new_id_number": ZHANG_SAN["id_number"],
        "reason": "name_change"})
    assert created.status_code == 302, created.text[:2000]
    with federation.national.unit_of_work() as session:
        navigation = session.execute(select(Navigation)).scalars().one()
    with federation.city.unit_of_work() as session:
        case = session.execute(select(Case).where(Case.origin_ref == navigation.id)).scalars().one()
        case_id = case.id
        assert case.origin_code == NATIONAL and case.business_type_code == "holder_change"
    assert "federation_origin" not in _session_of(federation.city.app, city)  # one navigation, one application

    owner = login("zhangsan")  # the same account at the city: uploads, confirms and submits through the API
    upload_missing(owner, case_id)
    assert owner.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    business_no = submitted.get_json()["business_no"]
    take_through(login, business_no)
    for platform in (federation.city, federation.province):  # the city reports, the province relays
        with platform.app.app_context(), platform.unit_of_work() as session:
            assert deliver_pending(session).dead == 0
    with federation.province.unit_of_work() as session:
        kept = session.execute(select(FederatedCase).where(FederatedCase.business_no == business_no)).scalars().one()
        assert (kept.origin_code, kept.origin_ref, kept.city_code) == (NATIONAL, navigation.id, CITY)
    with federation.national.unit_of_work() as session:
        followed = session.execute(select(FederatedCase).where(
            FederatedCase.origin_ref == navigation.id)).scalars().one()
        assert followed.business_no == business_no and followed.status == "completed"
        assert {"受理", "审核", "登簿", "缮证"} <= {s["stage"] for s in followed.steps}
        number = followed.certificates[0]["certificate_no"]
    mine = national.get("/national/my").text
    assert business_no in mine and number in mine and "已办结" in mine
