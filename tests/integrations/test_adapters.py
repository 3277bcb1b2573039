"""Every department adapter over real HTTP against the simulator: consistent fictional records, business
answers (not found) kept apart from failures, and a call-log line per call without personal data."""
from __future__ import annotations

import json
import urllib.request
from typing import Any

from sqlalchemy import select

from app.demo import BANK, LI_SI, ZHANG_SAN
from app.identifiers import check_id_card, check_uscc
from app.integrations.adapters import fayuan, gongan, jinrong, minzheng, services, shichang, shuiwu, sifa, weijian
from app.integrations.client import CallContext
from app.integrations.models import InterfaceCallLog


def test_the_departments_answer_from_one_consistent_world(seeded: Any, simulator: Any) -> None:
    ctx = CallContext(actor_id=None, business_no="2026330106200000001")
    with seeded.extensions["db"].unit_of_work() as session:
        assert gongan.verify_identity(session, ctx, ZHANG_SAN["name"], ZHANG_SAN["id_number"])["result"] == "一致"
        assert gongan.household(session, ctx, LI_SI["id_number"])["head_name"] == LI_SI["name"]
        zhang = minzheng.marriage_status(session, ctx, ZHANG_SAN["id_number"])
        assert zhang["status"] == "已婚"
        spouse = zhang["records"][0]["spouse_id_number"]
        assert minzheng.marriage_status(session, ctx, spouse)["records"][0]["spouse_id_number"] == \
            ZHANG_SAN["id_number"]
        assert shichang.business_licence(session, ctx, BANK["id_number"], BANK["name"])["result"] == "一致"
        assert jinrong.financial_licence(session, ctx, BANK["id_number"], BANK["name"])["licence"]["status"] == "有效"
        assert fayuan.court_document(session, ctx, "(2024)浙0106执1234号")["act"] == "查封"
        assert fayuan.court_document(session, ctx, "(2099)不存在") is None
        assert sifa.notarial_certificate(session, ctx, "(2025)浙杭西证字第000101号")["result"] == "一致"
        assert weijian.vital_certificate(session, ctx, "D330106202500017")["certificate"]["kind"] == "death"
        assert shuiwu.tax_case(session, ctx, "2026330106209999999") is None
        message_id = services.send_sms(session, ctx, ZHANG_SAN["phone"], "verify_code", {"code": "482913"})
        assert services.face_score(session, ctx, ZHANG_SAN["id_number"], "aGVsbG8=") >= 80
        payment = services.create_payment(session, ctx, "PAY2026000001", "80.00", "http://127.0.0.1:9/notify")
        assert payment["pay_url"].endswith("/pay/orders/PAY2026000001")
        tracking_no = services.ship(session, ctx, "CERT2026000001", "杭州市文三路1号")
        assert services.tracking(session, ctx, tracking_no)["events"][0]["status"] == "已揽收"
        logs = session.execute(select(InterfaceCallLog)).scalars().all()
    assert len(logs) == 16 and {log.outcome for log in logs} == {"ok"}
    assert {log.business_no for log in logs} == {"2026330106200000001"}
    logged = json.dumps([log.request_summary for log in logs], ensure_ascii=False)
    for secret in (ZHANG_SAN["id_number"], LI_SI["id_number"], ZHANG_SAN["phone"], ZHANG_SAN["name"]):
        assert secret not in logged
    with urllib.request.urlopen(f"{simulator.url}/sms/outbox", timeout=5) as resp:
        sent = json.load(resp)["items"]
    assert sent[0]["id"] == message_id and sent[0]["params"] == {"code": "482913"}


def test_the_simulated_people_and_companies_have_valid_check_characters() -> None:
    from simulator.data import build_world

    world = build_world()
    assert ZHANG_SAN["id_number"] in world.people and LI_SI["id_number"] in world.people
    for number in world.people:
        check_id_card(number)
    for uscc in world.companies:
        check_uscc(uscc)
    demo = world.contracts["WQ2026-000123"]
    assert demo["seller"]["id_number"] == ZHANG_SAN["id_number"] and demo["buyer"]["name"] == LI_SI["name"]


def test_the_register_holders_are_the_people_and_sellers_the_simulator_knows() -> None:
    """The demo register (app/demo.py) and the simulator's world agree: every person holding a demo unit is
    known to 公安 under the same name, and each 网签 contract's seller is the unit's holder — so 周杰, who has
    no account, can sign up, pass 实名认证 and sell his flat to 赵敏, who has none either
    (tests/browser/test_portal_new_owner.py)."""
    from app.demo import DISTRICTS, ZHOU_JIE, ZHOU_JIE_UNIT, unit_records
    from simulator.data import ZHAO_MIN, build_world

    world = build_world()
    holders: dict[str, dict[str, str]] = {}
    for code, area, _, street in DISTRICTS:
        for record in unit_records(code, area, street):
            for right in record["rights"]:
                if right["type"] == "ownership":
                    holders[record["unit_code"]] = right["holders"][0]
                    assert world.people[right["holders"][0]["id_number"]]["name"] == right["holders"][0]["name"]
    from app.demo_platforms import NINGBO_DISTRICTS, ningbo_records

    for code, area, _, street in NINGBO_DISTRICTS:  # 宁波's flats (the four-platform demo) too
        for record in ningbo_records(code, area, street):
            holder = holders[record["unit_code"]] = record["rights"][0]["holders"][0]
            assert world.people[holder["id_number"]]["name"] == holder["name"]
    for contract in world.contracts.values():
        if contract["contract_no"] != "WQ2026-000456":  # 李四 selling back the flat she bought in the demo
            assert contract["seller"]["id_number"] == holders[contract["unit_code"]]["id_number"]
    ours = [code for code, h in holders.items() if h["id_number"] == ZHOU_JIE["id_number"]]
    assert len(ours) == 1 and ours[0].endswith(f"{100 + ZHOU_JIE_UNIT:04d}")
    assert world.marriages[ZHOU_JIE["id_number"]]["status"] == "未婚"
    sale = next(c for c in world.contracts.values() if c["seller"]["id_number"] == ZHOU_JIE["id_number"])
    assert sale["buyer"]["id_number"] == ZHAO_MIN["id_number"]  # a buyer without an account too
