"""Applicant portal pages (server-rendered, no JavaScript needed): the generated guide matches the
definition, progress lookup without login, my applications / units, 无房证明."""
from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from app.demo import DEMO_PASSWORD, LI_SI


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def sign_in(client: FlaskClient, username: str) -> None:
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": csrf(client, "/login")})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def test_the_guide_is_generated_from_the_definition(client: FlaskClient, login: Any) -> None:
    definition = login("zhangsan").get("/api/v1/business-types/transfer_resale").get_json()
    html = client.get("/guide/transfer_resale").get_data(as_text=True)
    for material in definition["materials"]:
        assert material["name"] in html
    assert "受理后 5 个工作日" in html and "80 元" in html and "可免交：公安部门身份核验" in html
    for stage in ("受理", "审核", "登簿", "缮证"):
        assert f"（{stage}）" in html
    assert client.get("/guide/no_such_type").status_code == 404


def test_the_front_page_lists_districts_and_online_types(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "西湖区（330106）" in html and "余杭区（330110）" in html
    assert "/guide/first_transfer" in html and "嘱托登记" in html


def test_progress_lookup_without_login(client: FlaskClient, submitted_transfer: dict) -> None:
    token = csrf(client, "/track")
    ok = client.post("/track", data={"csrf_token": token, "business_no": submitted_transfer["business_no"],
                                      "name": LI_SI["name"], "id_number": LI_SI["id_number"]})
    html = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "受理中" in html and "申请已提交" in html and "受让方 李*" in html
    wrong = client.post("/track", data={"csrf_token": token, "business_no": submitted_transfer["business_no"],
                                         "name": "王五", "id_number": LI_SI["id_number"]})
    assert wrong.status_code == 404 and "未查到与所填信息一致的业务" in wrong.get_data(as_text=True)
    bad = client.post("/track", data={"csrf_token": token, "business_no": "123", "name": "",
                                       "id_number": "110101199001011234"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "业务号为 18 位数字" in text and "请填写申请人姓名" in text
    assert 'aria-invalid="true"' in text


def test_my_applications_and_units(client: FlaskClient, submitted_transfer: dict) -> None:
    anonymous = client.get("/my/applications")  # applicants' pages send strangers to the SMS-code sign-in
    assert anonymous.status_code == 302 and anonymous.headers["Location"] == "/login/sms?next=/my/applications"
    assert client.get("/workbench/").headers["Location"].startswith("/login?next=")  # staff pages: password form
    sign_in(client, "zhangsan")
    listing = client.get("/my/applications").get_data(as_text=True)
    assert submitted_transfer["business_no"] in listing
    detail = client.get(f"/my/applications/{submitted_transfer['id']}").get_data(as_text=True)
    assert "申请已提交" in detail and "80 元" in detail
    units = client.get("/my/units").get_data(as_text=True)
    assert units.count("杭州市文三路") == 3


def test_someone_elses_application_is_not_found(client: FlaskClient, submitted_transfer: dict) -> None:
    sign_in(client, "bank")
    resp = client.get(f"/my/applications/{submitted_transfer['id']}", headers={"Accept": "text/html"})
    assert resp.status_code == 404  # not found, so it does not say that it exists


def test_no_property_certificate_from_the_portal(client: FlaskClient) -> None:
    sign_in(client, "lisi")
    token = csrf(client, "/my/no-property")
    resp = client.post("/my/no-property", data={"purpose": "购房资格审核", "csrf_token": token})
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/my/certificates/[0-9a-f]+\.pdf)"', page)
    assert link and "已出具无房证明" in page
    pdf = client.get(link.group(1))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_an_owner_is_refused_a_no_property_certificate(client: FlaskClient, db: Any) -> None:
    sign_in(client, "zhangsan")
    token = csrf(client, "/my/no-property")
    resp = client.post("/my/no-property", data={"purpose": "购房资格审核", "csrf_token": token})
    assert resp.status_code == 422 and "不能出具无房证明" in resp.get_data(as_text=True)
    from sqlalchemy import select

    from app.security.models import AuditEntry

    with db.unit_of_work() as session:  # the refused query is still in the audit log
        actions = session.execute(select(AuditEntry.action)).scalars().all()
    assert "certificate.no_property_query" in actions


def test_public_information_comes_from_the_definitions(client: FlaskClient) -> None:
    html = client.get("/info").get_data(as_text=True)
    assert "不动产登记费（住宅）" in html and "80 元/件" in html and "发改价格规〔2016〕2559号" in html
    assert "查封登记" in html and "不收费" in html and "《不动产登记暂行条例实施细则》" in html
    assert "如实申请" in client.get("/terms").get_data(as_text=True)


def test_the_bank_types_of_issue_19_have_their_guide_and_form(client: FlaskClient, login: Any) -> None:
    """抵押权变更 and 预购商品房抵押预告 are data: listed, their guide and application form generated."""
    listed = {t["code"] for t in login("zhangsan").get("/api/v1/business-types").get_json()["items"]}
    assert {"mortgage_change", "advance_mortgage"} <= listed
    for code, words in (("mortgage_change", ("抵押权变更协议", "变更登记免收", "顺位")),
                        ("advance_mortgage", ("预告登记证明号", "转为抵押权登记", "不收费"))):
        definition = login("zhangsan").get(f"/api/v1/business-types/{code}").get_json()
        html = client.get(f"/guide/{code}").get_data(as_text=True)
        for material in definition["materials"]:
            assert material["name"] in html
        assert all(w in html or any(w in f["a"] for f in definition.get("faq", [])) for w in words), code
    sign_in(client, "zhangsan")
    unit = "330106001001GB00100F00010102"
    form = client.get("/apply/mortgage_change", query_string={"unit_code": unit})
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert "不动产登记证明号（抵押权）" in page and "变更后债务履行期限截止日期" in page
