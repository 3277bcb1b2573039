"""The simulator's fictional world, generated deterministically so every run (dev, demo, tests) sees the
same people, marriages, companies, contracts and documents — and so the demo cases verify.

Everyone here is fictional. ID numbers and credit codes carry valid check characters (GB 11643, GB 32100).
The demo applicants (张三, 李四), 周杰 (a flat owner without an account) and 赵敏 (the buyer of his flat, without an
account either), the demo bank and court, and the register owners of ``app.demo`` are included with the same
particulars the platform's demo data uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.demo import (
    BANK,
    COURT,
    DISTRICTS,
    LI_SI,
    SUN_YUE,
    VILLAGE_COLLECTIVE,
    VILLAGER,
    WU_HAO,
    ZHANG_SAN,
    ZHOU_JIE,
    ZHOU_JIE_UNIT,
    _owner,
    register_holders,
    register_owner,
)
from app.demo_platforms import NINGBO_DISTRICTS, NINGBO_UNITS, WANG_NING, ningbo_owner, ningbo_unit_code
from app.identifiers import make_id_card, make_unit_code, make_uscc

WANG_FANG = {"name": "王芳", "id_number": make_id_card("330106", date(1986, 5, 20), 62), "phone": "13800000003"}
ZHAO_MIN = {"name": "赵敏", "id_number": make_id_card("330110", date(1992, 11, 3), 24), "phone": "13800000004"}
DEMO_COMPANY = {"name": "杭州示范置业有限公司", "id_number": make_uscc("91", "330106", "MA2DEM02")}
DEMO_CONTRACT_NO = "WQ2026-000123"


@dataclass
class World:
    people: dict[str, dict[str, Any]] = field(default_factory=dict)        # id_number → person
    marriages: dict[str, dict[str, Any]] = field(default_factory=dict)     # id_number → marriage record
    companies: dict[str, dict[str, Any]] = field(default_factory=dict)     # uscc → company
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)     # contract_no → contract
    financial_licences: dict[str, dict[str, Any]] = field(default_factory=dict)  # uscc → licence
    court_documents: dict[str, dict[str, Any]] = field(default_factory=dict)     # doc_no → document
    notarial: dict[str, dict[str, Any]] = field(default_factory=dict)      # cert_no → notarial certificate
    vital: dict[str, dict[str, Any]] = field(default_factory=dict)         # cert_no → birth/death certificate


def _person(who: dict[str, str], sex: str, ethnicity: str = "汉", address: str = "") -> dict[str, Any]:
    number = who["id_number"]
    birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return {"name": who["name"], "id_number": number, "sex": sex, "ethnicity": ethnicity,
            "birth_date": birth.isoformat(), "address": address or f"浙江省{_city(number)}{number[:6]}某街道1号",
            "issuing_authority": _police(number),
            "valid_until": "2036-01-01", "household_no": f"HH{number[:6]}{number[14:17]}",
            "face_template": f"face:{number}"}


def _city(number: str) -> str:
    return "宁波市" if number.startswith("3302") else "杭州市"


def _police(number: str) -> str:
    if number.startswith("3302"):
        return "宁波市公安局海曙分局" if number.startswith("330203") else "宁波市公安局鄞州分局"
    return "杭州市公安局西湖分局" if number.startswith("330106") else "杭州市公安局余杭分局"


def build_world() -> World:
    world = World()
    for who, sex in ((ZHANG_SAN, "男"), (LI_SI, "女"), (WANG_FANG, "女"), (ZHAO_MIN, "女"), (ZHOU_JIE, "男"),
                     (VILLAGER, "男")):
        world.people[who["id_number"]] = _person(who, sex)
    for code, _, _, _ in DISTRICTS:
        for n in range(1, 25):
            for i, owner in enumerate(register_holders(n, code)):
                world.people.setdefault(owner["id_number"], _person(owner, "男" if (n + i) % 2 else "女"))
    # 宁波 (the four-platform demo, app/demo_platforms.py): 王宁 and the owners of its demo flats
    world.people[WANG_NING["id_number"]] = _person(WANG_NING, "男")
    world.marriages[WANG_NING["id_number"]] = {"status": "未婚", "records": []}
    for code, _, _, _ in NINGBO_DISTRICTS:
        for n in range(1, NINGBO_UNITS + 1):
            owner = ningbo_owner(n, code)
            world.people.setdefault(owner["id_number"], _person(owner, "男" if n % 2 else "女"))
    _marry(world, ZHANG_SAN, WANG_FANG, "2012-10-01", "杭州市西湖区民政局婚姻登记处", "J330106-2012-001234")
    _marry(world, WU_HAO, SUN_YUE, "2011-05-01", "杭州市西湖区民政局婚姻登记处", "J330106-2011-000517")
    for who in (LI_SI, ZHAO_MIN, ZHOU_JIE):
        world.marriages[who["id_number"]] = {"status": "未婚", "records": []}
    for company, kind, rep in ((BANK, "股份有限公司（分公司）", "陈刚"), (DEMO_COMPANY, "有限责任公司", "周伟"),
                               (COURT, "机关", "刘强")):
        world.companies[company["id_number"]] = {
            "uscc": company["id_number"], "name": company["name"], "type": kind, "legal_representative": rep,
            "address": "浙江省杭州市西湖区文三路100号", "registered_capital": "10000万元", "founded": "2010-01-08",
            "term": "长期", "status": "存续", "authority": "杭州市市场监督管理局", "changes": []}
    # The village collective is registered with 农业农村, not 市场监管; the organisation check answers for both.
    world.companies[VILLAGE_COLLECTIVE["id_number"]] = {
        "uscc": VILLAGE_COLLECTIVE["id_number"], "name": VILLAGE_COLLECTIVE["name"], "type": "村级集体经济组织",
        "legal_representative": "陈建华", "address": "浙江省杭州市余杭区示范村村委会", "registered_capital": "—",
        "founded": "2018-12-20", "term": "长期", "status": "存续", "authority": "杭州市余杭区农业农村局", "changes": []}
    world.financial_licences[BANK["id_number"]] = {
        "institution": BANK["name"], "institution_code": "B0001B233010001", "licence_serial": "00123456",
        "approved": "2010-01-05", "address": "浙江省杭州市西湖区文三路100号", "issued": "2020-06-01", "status": "有效"}
    _contracts(world)
    world.court_documents["(2024)浙0106执1234号"] = {
        "doc_no": "(2024)浙0106执1234号", "court": COURT["name"], "doc_type": "协助执行通知书",
        "effective_date": "2024-03-14", "act": "查封", "period": "三年",
        "unit_code": make_unit_code("330106", 1, 1, "GB", 100, 1, 104)}
    world.notarial["(2025)浙杭西证字第000101号"] = {
        "cert_no": "(2025)浙杭西证字第000101号", "office": "杭州市西湖公证处", "matter": "委托书公证",
        "parties": [ZHANG_SAN["id_number"]], "date": "2025-02-18"}
    world.vital["D330106202500017"] = {"cert_no": "D330106202500017", "kind": "death", "name": "王伟",
                                       "id_number": _owner(1, "330106")["id_number"], "date": "2025-01-09",
                                       "institution": "浙江省人民医院"}
    world.vital["B330110201800233"] = {"cert_no": "B330110201800233", "kind": "birth", "name": "李小四",
                                       "id_number": make_id_card("330110", date(2018, 4, 2), 233),
                                       "date": "2018-04-02", "institution": "杭州市妇产科医院",
                                       "parents": [LI_SI["id_number"]]}
    return world


def _marry(world: World, a: dict[str, str], b: dict[str, str], on: str, office: str, cert_no: str) -> None:
    for me, spouse in ((a, b), (b, a)):
        world.marriages[me["id_number"]] = {"status": "已婚", "records": [{
            "type": "结婚", "date": on, "office": office, "cert_no": cert_no,
            "spouse_name": spouse["name"], "spouse_id_number": spouse["id_number"]}]}


def _contracts(world: World) -> None:
    """One filed resale contract per 西湖区 demo unit, bought by 李四; the 张三 → 李四 sale of unit 101 is the
    demo one. 周杰's flat goes to 赵敏: seller and buyer both without an account, so the whole sale can be done
    by two new people (tests/browser/test_portal_new_owner.py)."""
    for n in range(1, 25):
        unit_code = make_unit_code("330106", 1, 1, "GB", 100 + (n - 1) // 8, 1 + (n - 1) // 8, 100 + n)
        seller = register_owner(n, "330106")
        number = DEMO_CONTRACT_NO if n == 1 else f"WQ2026-{n:06d}"
        price = Decimal(2_350_000) if n == 1 else Decimal(1_800_000 + n * 25_000)
        buyer = ZHAO_MIN if n == ZHOU_JIE_UNIT else LI_SI
        world.contracts[number] = {
            "contract_no": number, "filing_no": f"BA2026-{n:06d}", "status": "备案", "unit_code": unit_code,
            "location": f"杭州市文三路{n}号{n % 6 + 1}单元{100 + n}室", "area_m2": str(Decimal("60") + n * 3),
            "price": str(price), "payment": "商业贷款" if n % 2 else "一次性付款", "filed_on": "2026-11-02",
            "seller": {"name": seller["name"], "id_number": seller["id_number"]},
            "buyer": {"name": buyer["name"], "id_number": buyer["id_number"]},
            "use": "住宅" if n % 10 else "非住宅"}
    # 宁波 海曙区: one filed contract per demo flat, bought by 李四 (王宁 sells units 1–2: ``WQ2026-NB0001``, …).
    district, area, street = NINGBO_DISTRICTS[0][0], NINGBO_DISTRICTS[0][1], NINGBO_DISTRICTS[0][3]
    for n in range(1, NINGBO_UNITS + 1):
        seller, number = ningbo_owner(n, district), f"WQ2026-NB{n:04d}"
        world.contracts[number] = {
            "contract_no": number, "filing_no": f"BA2026-NB{n:04d}", "status": "备案",
            "unit_code": ningbo_unit_code(district, n),
            "location": f"宁波市{area}{street}{n}号{n % 6 + 1}单元{100 + n}室",
            "area_m2": str(Decimal("70") + n * 4), "price": str(Decimal(1_600_000 + n * 20_000)),
            "payment": "一次性付款", "filed_on": "2026-11-05",
            "seller": {"name": seller["name"], "id_number": seller["id_number"]},
            "buyer": {"name": LI_SI["name"], "id_number": LI_SI["id_number"]}, "use": "住宅"}
    # 李四 sells unit …0101 back to 张三 (the demo's second transfer of the same flat).
    first = world.contracts[DEMO_CONTRACT_NO]
    world.contracts["WQ2026-000456"] = {**first, "contract_no": "WQ2026-000456", "filing_no": "BA2026-000456",
                                        "filed_on": "2026-11-20", "seller": first["buyer"], "buyer": first["seller"]}


def compute_tax(contract: dict[str, Any]) -> dict[str, Any]:
    """Fictional but consistent: 契税 1.5 % (住宅) or 3 %, 增值税 免征 (over two years), 个税 1 % of the price."""
    price = Decimal(contract["price"])
    deed_rate = Decimal("0.015") if contract.get("use") == "住宅" else Decimal("0.03")
    items = [{"tax_type": "契税", "taxpayer_role": "buyer", "base": str(price), "amount": str(price * deed_rate)},
             {"tax_type": "增值税", "taxpayer_role": "seller", "base": str(price), "amount": "0", "exempt": True},
             {"tax_type": "个人所得税", "taxpayer_role": "seller", "base": str(price),
              "amount": str(price * Decimal("0.01"))}]
    total = sum(Decimal(i["amount"]) for i in items)
    return {"items": items, "total": str(total.quantize(Decimal("0.01")))}
