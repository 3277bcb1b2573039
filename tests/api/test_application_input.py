"""Bad input gets a clear Chinese message on the field, never a 500; submission waits for everything."""
from __future__ import annotations

from typing import Any

from support.forms import transfer_form, upload_missing


def _create(api: Any, **form: Any) -> Any:
    return api.post("/api/v1/applications", json={"business_type": "transfer_resale", "form": transfer_form(**form)})


def test_a_wrong_id_number_is_refused_on_its_field(login: Any) -> None:
    resp = _create(login("zhangsan"), buyer_id_number="110105194912310021")
    assert resp.status_code == 422
    body = resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert "校验位" in body["errors"]["buyer_id_number"][0]


def test_a_malformed_unit_code_is_refused_on_its_field(login: Any) -> None:
    resp = _create(login("zhangsan"), unit_code="330106ABC")
    assert resp.status_code == 422
    assert "unit_code" in resp.get_json()["errors"]


def test_a_unit_not_in_the_register_is_refused(login: Any) -> None:
    from app.identifiers import make_unit_code

    resp = _create(login("zhangsan"), unit_code=make_unit_code("330106", 9, 9, "GB", 999, 9, 999))
    assert resp.status_code == 422
    assert "登记簿" in resp.get_json()["errors"]["unit_code"][0]


def test_a_negative_price_and_an_unknown_field_are_named(login: Any) -> None:
    resp = _create(login("zhangsan"), price=-5, favourite_colour="red")
    errors = resp.get_json()["errors"]
    assert resp.status_code == 422 and "price" in errors and "favourite_colour" in errors


def test_malformed_json_and_missing_keys_are_422_not_500(login: Any) -> None:
    api = login("zhangsan")
    resp = api.client.post("/api/v1/applications", data="{not json", headers={**api.headers,
                                                                               "Content-Type": "application/json"})
    assert resp.status_code == 422
    resp = api.post("/api/v1/applications", json={"form": {}})
    assert resp.status_code == 422 and resp.get_json()["errors"]["business_type"] == ["必填项"]
    assert api.post("/api/v1/applications", json={"business_type": "nope", "form": {}}).status_code == 404


def test_someone_who_is_not_a_party_cannot_apply_in_their_name(login: Any) -> None:
    from app.demo import ZHANG_SAN

    resp = _create(login("lisi"), seller_name=ZHANG_SAN["name"], seller_id_number=ZHANG_SAN["id_number"],
                   buyer_name="王五", buyer_id_number="11010519491231002X")
    assert resp.status_code == 403


def test_submission_lists_missing_materials_and_pending_confirmations(login: Any) -> None:
    seller = login("zhangsan")
    case_id = _create(seller).get_json()["id"]
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.status_code == 422
    errors = resp.get_json()["errors"]
    assert any("不动产权证书" in m for m in errors["materials"])
    assert errors["confirmations"] == ["待转让方确认申请并签名", "待受让方确认申请并签名"]
    upload_missing(seller, case_id)
    seller.post(f"/api/v1/applications/{case_id}/confirm")
    resp = seller.post(f"/api/v1/applications/{case_id}/submit")
    assert resp.get_json()["errors"] == {"confirmations": ["待受让方确认申请并签名"]}


def test_an_upload_is_typed_by_its_content_not_its_name(login: Any) -> None:
    import io

    seller = login("zhangsan")
    case_id = _create(seller).get_json()["id"]
    resp = seller.post(f"/api/v1/applications/{case_id}/materials",
                       data={"code": "sale_contract", "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "contract.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "PDF" in resp.get_json()["errors"]["file"][0]
    resp = seller.post(f"/api/v1/applications/{case_id}/materials",
                       data={"code": "no_such_item", "file": (io.BytesIO(b"%PDF-1.4"), "x.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "code" in resp.get_json()["errors"]


def test_the_seller_fields_are_prefilled_from_the_verified_identity(login: Any) -> None:
    from app.demo import ZHANG_SAN

    case = _create(login("zhangsan")).get_json()
    seller = next(p for p in case["parties"] if p["role"] == "seller")
    assert seller["name"] == "张*" and seller["id_number"][-4:] == ZHANG_SAN["id_number"][-4:]


def test_business_numbers_are_sequential_per_office_and_year(login: Any, submitted_transfer: dict) -> None:
    first = submitted_transfer["business_no"]
    seller, buyer = login("zhangsan"), login("lisi")
    case_id = _create(seller, unit_code=submitted_transfer["unit_code"][:-3] + "102").get_json()["id"]
    upload_missing(seller, case_id)
    seller.post(f"/api/v1/applications/{case_id}/confirm")
    buyer.post(f"/api/v1/applications/{case_id}/confirm")
    second = seller.post(f"/api/v1/applications/{case_id}/submit").get_json()["business_no"]
    assert len(first) == 18 and first[4:10] == "330106" and first[10:12] == "20"
    assert int(second[-6:]) == int(first[-6:]) + 1 and second[:12] == first[:12]


def test_the_business_type_endpoints_publish_form_materials_fees_and_time_limit(login: Any) -> None:
    api = login("zhangsan")
    codes = {t["code"] for t in api.get("/api/v1/business-types").get_json()["items"]}
    assert {"transfer_resale", "mortgage_first"} <= codes
    detail = api.get("/api/v1/business-types/transfer_resale").get_json()
    assert {"unit_code", "buyer_name", "buyer_id_number", "price", "contract_no"} <= set(
        detail["form_schema"]["properties"])
    assert detail["time_limit_days"] > 0 and detail["fees"] and detail["materials"]
    assert [s["stage"] for s in detail["stages"] if s["stage"] != "补正"] == ["受理", "审核", "完税", "登簿", "缮证"]


def test_the_openapi_document_lists_the_v1_paths(client: Any) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ["/api/v1/auth/token", "/api/v1/business-types", "/api/v1/business-types/{code}",
                 "/api/v1/applications", "/api/v1/applications/{case_id}",
                 "/api/v1/applications/{case_id}/materials", "/api/v1/applications/{case_id}/confirm",
                 "/api/v1/applications/{case_id}/submit", "/api/v1/applications/{case_id}/progress",
                 "/api/v1/tasks", "/api/v1/tasks/{task_id}/claim", "/api/v1/tasks/{task_id}/complete",
                 "/api/v1/units", "/api/v1/units/{unit_code}"]:
        assert path in paths, path
    assert client.get("/api/docs").status_code == 200


def test_a_bad_password_and_a_bad_token_are_401(client: Any) -> None:
    assert client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": "x"}).status_code == 401
    resp = client.get("/api/v1/applications", headers={"Authorization": "Bearer nonsense"})
    assert resp.status_code == 401 and resp.get_json()["detail"] == "登录凭证无效"


def test_a_conditional_material_is_required_when_either_side_of_its_condition_holds(login: Any) -> None:
    # Required, but exemptible: 民政 is asked at submission (materials_deferred) before anyone must upload it.
    case = _create(login("zhangsan"), buyer_marital_status="已婚").get_json()
    assert "marriage_certificate" in case["materials_deferred"]
    assert "marriage_certificate" not in case["materials_missing"]
    case = _create(login("zhangsan"), unit_code=case["unit_code"][:-3] + "102").get_json()
    assert "marriage_certificate" not in case["materials_missing"] + case["materials_deferred"]


def test_the_home_page_lists_the_business_types_in_chinese(client: Any) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "二手房转移登记" in page and "抵押权首次登记" in page
    assert client.get("/healthz").get_json() == {"status": "ok"}
