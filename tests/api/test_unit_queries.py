"""Register searches per DOMAIN R20: holders see everything about their own property, interested parties the
natural status, masked owners and restrictions, clerks the rights inside their office; non-holders give a
purpose, and every query is in the audit log with who, what and why."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from app.identifiers import make_unit_code
from app.identity.models import User
from app.security import audit

UNIT1 = make_unit_code("330106", 1, 1, "GB", 100, 1, 101)  # 张三's
UNIT4 = make_unit_code("330106", 1, 1, "GB", 100, 1, 104)  # seized
UNIT5 = make_unit_code("330106", 1, 1, "GB", 100, 1, 105)  # mortgaged
YH_UNIT1 = make_unit_code("330110", 1, 1, "GB", 100, 1, 101)
CERT4 = "浙(2015)西湖区不动产权第0000004号"


def audit_of(app: Flask, action: str) -> list[tuple[str, dict[str, Any]]]:
    """(username, after) of every access-log entry with this action (register queries are reads: they go to
    the unchained access log, read through ``audit.access_entries``), oldest first."""
    with app.extensions["db"].unit_of_work() as session:
        entries = session.execute(audit.access_entries(action=action)).scalars().all()
        names = dict(session.execute(select(User.id, User.username)).all())
        return [(names[e.actor_id], e.after) for e in reversed(entries) if e.action == action and e.actor_id]


def test_a_holder_sees_everything_about_their_own_unit_without_a_purpose(login: Any, seeded: Flask) -> None:
    from app.demo import ZHANG_SAN

    zhang = login("zhangsan")
    unit = zhang.get(f"/api/v1/units/{UNIT1}").get_json()
    assert unit["view"] == "holder" and unit["purpose"] == "本人查询"
    ownership = unit["rights"][0]
    assert ownership["cert_no"] == "浙(2015)西湖区不动产权第0000001号" and ownership["business_no"]
    assert ownership["holders"][0]["name"] == "张*" and "*" in ownership["holders"][0]["id_number"]
    full = zhang.get(f"/api/v1/units/{UNIT1}", query_string={"unmask": 1}).get_json()
    holder = full["rights"][0]["holders"][0]
    assert (holder["name"], holder["id_number"]) == ("张三", ZHANG_SAN["id_number"])
    assert [(u, a["unit_code"], a["purpose"], a["view"]) for u, a in audit_of(seeded, "query.unit")] == \
        [("zhangsan", UNIT1, "本人查询", "holder")] * 2
    assert audit_of(seeded, "query.unit")[1][1]["unmasked"] is True


def test_an_interested_party_states_a_purpose_and_sees_masked_owners_and_restrictions(login: Any) -> None:
    lisi = login("lisi")
    missing = lisi.get(f"/api/v1/units/{UNIT1}")
    assert missing.status_code == 422 and missing.get_json()["code"] == "purpose_required"
    assert lisi.get(f"/api/v1/units/{UNIT1}", query_string={"purpose": "好奇"}).status_code == 422
    unit = lisi.get(f"/api/v1/units/{UNIT1}", query_string={"purpose": "交易"}).get_json()
    assert unit["view"] == "interested" and unit["purpose"] == "交易"
    assert unit["holders"] == [{"name": "张*", "share_mode": "单独所有", "share": None}]
    assert "rights" not in unit and unit["restrictions"] == [] and unit["location"] and unit["area_m2"]
    seized = lisi.get(f"/api/v1/units/{UNIT4}", query_string={"purpose": "诉讼"}).get_json()
    mortgaged = lisi.get(f"/api/v1/units/{UNIT5}", query_string={"purpose": "交易"}).get_json()
    assert seized["restrictions"] == ["查封"] and seized["flags"]["seized"]
    assert mortgaged["restrictions"] == ["抵押"] and mortgaged["flags"]["mortgaged"]
    denied = lisi.get(f"/api/v1/units/{UNIT1}", query_string={"purpose": "交易", "unmask": 1})
    assert denied.status_code == 403


def test_clerks_see_rights_with_masked_holders_inside_their_office_only(login: Any, seeded: Flask) -> None:
    clerk = login("xh_acceptor")
    unit = clerk.get(f"/api/v1/units/{UNIT5}").get_json()
    assert unit["view"] == "staff" and unit["purpose"] == "办理登记"
    mortgage = next(r for r in unit["rights"] if r["type"] == "mortgage")
    assert mortgage["amount_yuan"] == 800_000 and mortgage["holders"][0]["name"].startswith("中")
    assert "*" in mortgage["holders"][0]["name"]
    assert clerk.get(f"/api/v1/units/{YH_UNIT1}").status_code == 404
    assert clerk.get(f"/api/v1/units/{UNIT5}", query_string={"unmask": 1}).status_code == 403
    needs_purpose = clerk.get("/api/v1/units/search", query_string={"location": "文三路4号"})
    assert needs_purpose.status_code == 422
    found = clerk.get("/api/v1/units/search", query_string={"location": "文三路4号", "purpose": "办理登记"}).get_json()
    assert [u["unit_code"] for u in found["items"]] == [UNIT4] and found["items"][0]["view"] == "staff"
    other_office = login("yh_acceptor").get("/api/v1/units/search",
                                            query_string={"location": "文三路", "purpose": "办理登记"})
    assert other_office.get_json()["items"] == []
    assert login("admin").get(f"/api/v1/units/{YH_UNIT1}").get_json()["view"] == "staff"


def test_search_by_certificate_number_accepts_full_width_brackets(login: Any, seeded: Flask) -> None:
    lisi = login("lisi")
    half = lisi.get("/api/v1/units/search", query_string={"cert_no": CERT4, "purpose": "诉讼"}).get_json()
    full = lisi.get("/api/v1/units/search", query_string={"cert_no": "浙（2015）西湖区不动产权第0000004号",
                                                          "purpose": "诉讼"}).get_json()
    assert [u["unit_code"] for u in half["items"]] == [u["unit_code"] for u in full["items"]] == [UNIT4]
    assert half["items"][0]["view"] == "interested" and half["items"][0]["restrictions"] == ["查封"]
    assert ("lisi", {"cert_no": CERT4, "location": None, "purpose": "诉讼", "count": 1, "unit_codes": [UNIT4],
                     "views": ["interested"], "unmasked": False}) in audit_of(seeded, "query.unit_search")


def test_a_holder_searches_their_own_units_without_a_purpose_but_not_other_peoples(login: Any) -> None:
    zhang = login("zhangsan")
    own = zhang.get("/api/v1/units/search", query_string={"cert_no": "浙(2015)西湖区不动产权第0000002号"})
    assert own.status_code == 200 and own.get_json()["items"][0]["view"] == "holder"
    assert zhang.get("/api/v1/units/search", query_string={"location": "文三路"}).status_code == 422
    street = zhang.get("/api/v1/units/search", query_string={"location": "文三路", "purpose": "交易"}).get_json()
    views = [u["view"] for u in street["items"]]
    assert street["count"] == 28 and views.count("holder") == 3 and views.count("interested") == 25


def test_search_needs_a_term_and_a_permission(login: Any) -> None:
    lisi = login("lisi")
    empty = lisi.get("/api/v1/units/search", query_string={"purpose": "交易"})
    assert empty.status_code == 422 and empty.get_json()["code"] == "search_terms_required"
    assert lisi.get("/api/v1/units/search", query_string={"location": "文", "purpose": "交易"}).status_code == 422
    assert login("analyst").get("/api/v1/units/search",
                                query_string={"location": "文三路", "purpose": "交易"}).status_code == 403
    like = lisi.get("/api/v1/units/search", query_string={"location": "%_", "purpose": "交易"}).get_json()
    assert like["items"] == []  # LIKE wildcards are searched for literally


def test_own_units_are_logged_with_their_codes(login: Any, seeded: Flask) -> None:
    items = login("zhangsan").get("/api/v1/units", query_string={"mine": 1}).get_json()["items"]
    assert len(items) == 3 and {u["view"] for u in items} == {"holder"}
    (username, after), = audit_of(seeded, "query.own_units")
    assert username == "zhangsan" and after["purpose"] == "本人查询"
    assert after["unit_codes"] == sorted(u["unit_code"] for u in items)


def test_imported_units_are_searchable(login: Any, seeded: Flask) -> None:
    from app.config import ROOT

    path = ROOT / "dictionaries" / "register_import_example.jsonl"
    assert seeded.test_cli_runner().invoke(args=["registry", "import", str(path)]).exit_code == 0
    found = login("bank").get("/api/v1/units/search",
                              query_string={"location": "良渚街道示例路", "purpose": "办理登记"}).get_json()
    assert found["count"] == 4
    restrictions = {u["unit_code"][-3:]: u["restrictions"] for u in found["items"]}
    assert restrictions == {"101": [], "102": ["抵押"], "103": ["预告"], "104": ["查封"]}


def test_the_search_is_in_the_openapi_document(client: Any) -> None:
    assert "/api/v1/units/search" in client.get("/api/openapi.json").get_json()["paths"]
