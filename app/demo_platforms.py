"""Demo data for each platform of the four-platform demo (docs/federation.md, "The four-platform demo"):
`flask setup --demo` seeds what PLATFORM_LEVEL / PLATFORM_CODE call for.

- city 330100 杭州: ``app.demo.seed_demo``, exactly as ``make run`` always had it;
- city 330200 宁波: its own districts 海曙区 and 鄞州区, their offices and staff (the Hangzhou usernames' pattern
  ``<district>_<role>`` with ``hs`` / ``yz``, the same password), units under its counties and their owners;
- a province or the national platform: operators and the demo applicants only (no units), and for the province
  its own office row, which numbers the province-wide 无房证明.

The people overlap on purpose, so the province-wide 无房证明 shows something real: 张三 owns flats in 杭州 and
nothing in 宁波; 王宁 owns 宁波 海曙区 units 1–2 and nothing in 杭州; 李四 owns nothing anywhere. Every
platform has an applicant account for each of them (same usernames and password). All people are fictional.
Idempotent."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.demo import DEMO_PASSWORD, LI_SI, STAFF_ROLES, ZHANG_SAN, _holder, _owner, _user, district_sections, seed_demo
from app.identifiers import make_id_card, make_unit_code
from app.identity.directory import ensure_province_office
from app.identity.models import Tenant
from app.registry.importer import import_records

NINGBO = ("330200", "宁波市")
NINGBO_DISTRICTS = [("330203", "海曙区", "hs", "中山西路"), ("330212", "鄞州区", "yz", "天童南路")]
NINGBO_UNITS = 12  # per district
WANG_NING = {"name": "王宁", "id_number": make_id_card("330203", date(1982, 11, 3), 71), "phone": "13800000011"}
WANG_NING_UNITS = 2  # 海曙区 units 1–2
DEMO_APPLICANTS = [("zhangsan", ZHANG_SAN), ("lisi", LI_SI), ("wangning", WANG_NING)]


def seed_for_platform(session: Session, level: str, code: str) -> str:
    """The demo data of the platform this deployment is (``PLATFORM_LEVEL`` / ``PLATFORM_CODE``)."""
    if level == "city" and code == NINGBO[0]:
        return seed_ningbo(session)
    if level == "city":
        return seed_demo(session)
    return seed_upper(session, level, code)


def _applicants(session: Session) -> None:
    for username, who in DEMO_APPLICANTS:
        _user(session, username, roles=["applicant"], real_name=who["name"], id_number=who["id_number"],
              phone=who["phone"])


def _operators(session: Session) -> None:
    _user(session, "admin", roles=["admin"])
    _user(session, "ops", roles=["account_admin", "ops"])
    _user(session, "analyst", roles=["analyst"])


def seed_upper(session: Session, level: str, code: str) -> str:
    """A province or the national platform: no register book, only its operators and the demo applicants (who
    sign in here or arrive by assertion). The province's own office names and numbers its 无房证明."""
    if level == "province":
        ensure_province_office(session, code)  # `flask setup` made it already; the demo's tests seed directly
    _operators(session)
    _applicants(session)
    return f"demo data ready for the {level} platform {code} (password {DEMO_PASSWORD}; no units)"


def ningbo_owner(n: int, district: str) -> dict[str, str]:
    """Who holds 宁波 demo unit ``n`` of ``district``: 王宁 for 海曙区 units 1–2, else a generated owner."""
    if district == NINGBO_DISTRICTS[0][0] and n <= WANG_NING_UNITS:
        return WANG_NING
    return _owner(n, district)


def ningbo_unit_code(district: str, n: int) -> str:
    return make_unit_code(district, 1, 1, "GB", 100 + (n - 1) // 6, 1 + (n - 1) // 6, 100 + n)


def ningbo_records(district: str, area: str, street: str) -> list[dict[str, Any]]:
    """The district's demo flats as register-import records (current ownership, one owner each)."""
    records: list[dict[str, Any]] = []
    for n in range(1, NINGBO_UNITS + 1):
        records.append({
            "unit_code": ningbo_unit_code(district, n), "tenant": district,
            "location": f"宁波市{area}{street}{n}号{n % 6 + 1}单元{100 + n}室", "use": "住宅",
            "area_m2": str(Decimal("70") + n * 4), "right_nature": "出让", "land_term_end": "2086-12-31",
            "rights": [{"type": "ownership", "business_no": f"2016{district}10{n:06d}",
                        "cert_no": f"浙(2016){area}不动产权第{n:07d}号", "registered_at": f"2016-04-{n:02d}",
                        "holders": [_holder(ningbo_owner(n, district))]}]})
    return records


def _ningbo_offices(session: Session) -> dict[tuple[str, str], str]:
    if session.get(Tenant, NINGBO[0]) is None:
        session.add(Tenant(code=NINGBO[0], name=NINGBO[1], level="city", province_abbr="浙"))
        session.flush()
    for code, name, _, _ in NINGBO_DISTRICTS:
        if session.get(Tenant, code) is None:
            session.add(Tenant(code=code, name=name, level="district", parent_code=NINGBO[0], province_abbr="浙"))
    session.flush()
    return district_sections(session, NINGBO_DISTRICTS)


def seed_ningbo(session: Session) -> str:
    """宁波市 (330200): two district offices with a clerk for every role, operators, the demo applicants and
    24 flats."""
    sections = _ningbo_offices(session)
    _operators(session)
    for code, _, prefix, _ in NINGBO_DISTRICTS:
        for role in STAFF_ROLES:
            clerk = _user(session, f"{prefix}_{role}", roles=[role], tenant_id=code)
            clerk.org_unit_id = clerk.org_unit_id or sections[(code, role)]
        _user(session, f"{prefix}_leader", roles=["team_leader", *STAFF_ROLES], tenant_id=code)
        _user(session, f"{prefix}_archivist", roles=["archivist"], tenant_id=code)
    _applicants(session)
    records = [r for code, area, _, street in NINGBO_DISTRICTS for r in ningbo_records(code, area, street)]
    for number, record in enumerate(records, start=1):
        record["_line"] = number
    report = import_records(session, records, source="demo")
    if not report.ok:
        raise RuntimeError("演示登记簿数据无效：" + "；".join(map(str, report.problems)))
    return f"demo data ready for 宁波市 (password {DEMO_PASSWORD}; {report.created} new units)"
