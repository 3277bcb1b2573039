"""变更登记（权利人姓名、证件变更）: the holder applies alone; 登簿 re-records the ownership under the new name,
the old title certificate is revoked and a new one issued. Only the registered holder confirms."""
from __future__ import annotations

from datetime import date
from typing import Any

from support.cases import complete_stage
from support.forms import upload_missing


def _unit(n: int) -> str:
    from app.identifiers import make_unit_code

    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def _change(login: Any, form: dict[str, Any]) -> dict[str, Any]:
    """张三 applies, confirms, uploads and submits; the clerks take it through to 缮证."""
    owner = login("zhangsan")
    created = owner.post("/api/v1/applications", json={"business_type": "holder_change", "form": form})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(owner, case_id)
    assert owner.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    submitted = owner.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    business_no = submitted.get_json()["business_no"]
    assert business_no[10:12] == "30"
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        resp = complete_stage(login(username), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
    case = owner.get(f"/api/v1/applications/{case_id}").get_json()
    assert case["status"] == "completed"
    return case


def test_a_name_change_rerecords_the_ownership_and_reissues_the_title(login: Any) -> None:
    from app.demo import ZHANG_SAN

    unit_code = _unit(1)
    first = _change(login, {"unit_code": unit_code, "new_name": "张叁", "new_id_number": ZHANG_SAN["id_number"],
                            "reason": "name_change"})
    unit = login("zhangsan").get(f"/api/v1/units/{unit_code}", query_string={"unmask": 1}).get_json()
    owners = [h for r in unit["rights"] if r["type"] == "ownership" for h in r["holders"]]
    assert [(h["name"], h["id_number"]) for h in owners] == [("张叁", ZHANG_SAN["id_number"])]
    [title] = first["certificates"]
    assert title["kind"] == "title" and title["status"] == "valid"

    # A second change (back to 张三) revokes the certificate the first one issued.
    second = _change(login, {"unit_code": unit_code, "holder_name": "张叁", "new_name": "张三",
                             "new_id_number": ZHANG_SAN["id_number"], "reason": "name_change"})
    assert second["certificates"][0]["status"] == "valid"
    again = login("zhangsan").get(f"/api/v1/applications/{first['id']}").get_json()["certificates"]
    assert again[0]["status"] == "revoked"


def test_an_id_number_change_needs_only_the_registered_holder_to_confirm(login: Any) -> None:
    from app.identifiers import make_id_card

    new_id = make_id_card("330106", date(1985, 3, 12), 77)
    case = _change(login, {"unit_code": _unit(2), "new_name": "张三", "new_id_number": new_id,
                           "reason": "id_change"})
    assert case["certificates"][0]["kind"] == "title"
    unit = login("xh_acceptor").get(f"/api/v1/units/{_unit(2)}").get_json()
    assert unit["flags"]["has_current_title"] is True


def test_someone_who_is_not_the_holder_cannot_change_the_name(login: Any) -> None:
    from app.demo import LI_SI

    lisi = login("lisi")
    created = lisi.post("/api/v1/applications", json={"business_type": "holder_change", "form": {
        "unit_code": _unit(1), "new_name": "李思", "new_id_number": LI_SI["id_number"], "reason": "name_change"}})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(lisi, case_id)
    assert lisi.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    refused = lisi.post(f"/api/v1/applications/{case_id}/submit")
    assert refused.status_code == 422, refused.get_json()
    assert "权利人" in str(refused.get_json())


def test_a_co_owner_changes_their_name_and_the_other_owner_stays(login: Any, db: Any) -> None:
    from test_registration_rules import WANG_WU, add_right

    from app.demo import ZHANG_SAN

    add_right(db, _unit(3), "ownership", [ZHANG_SAN, WANG_WU], kind="person", share_mode="按份共有",
              shares=["1/2", "1/2"], end_current=True)
    _change(login, {"unit_code": _unit(3), "new_name": "张叁", "new_id_number": ZHANG_SAN["id_number"],
                    "reason": "name_change"})
    unit = login("zhangsan").get(f"/api/v1/units/{_unit(3)}", query_string={"unmask": 1}).get_json()
    owners = [(h["name"], h["share_mode"], h["share"]) for r in unit["rights"] if r["type"] == "ownership"
              for h in r["holders"]]
    assert owners == [("张叁", "按份共有", "1/2"), (WANG_WU["name"], "按份共有", "1/2")]
