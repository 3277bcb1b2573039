"""Demo data for `flask setup --demo`: 杭州市 with 西湖区 and 余杭区, an account for every role in each
district, applicants 张三 and 李四, a bank, a village collective (示范村) and a villager, and a small register
book loaded through the register importer. All people are fictional; their ID numbers and credit codes are
generated with valid check characters.
Idempotent."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.identifiers import make_id_card, make_unit_code, make_uscc
from app.identity.directory import ensure_org_tree
from app.identity.institutions import create_institution
from app.identity.models import Institution, Tenant, User
from app.identity.service import create_user
from app.registry.importer import import_records

DEMO_PASSWORD = "Demo@2026"
CITY = ("330100", "杭州市")
DISTRICTS = [("330106", "西湖区", "xh", "文三路"), ("330110", "余杭区", "yh", "文一西路")]
STAFF_ROLES = ["acceptor", "reviewer", "recorder", "certifier"]

ZHANG_SAN = {"name": "张三", "id_number": make_id_card("330106", date(1985, 3, 12), 31), "phone": "13800000001"}
LI_SI = {"name": "李四", "id_number": make_id_card("330110", date(1990, 7, 8), 42), "phone": "13800000002"}
# A flat owner the register and 公安 know but who has no portal account yet: the person who signs up in the
# portal (the phone journey test, a demo). Holds 西湖区 unit 8 (文三路8号) and has a filed 网签 contract selling
# it to 赵敏 (simulator/data.py), whom 公安 knows and who has no account either. An ID number verified on one
# account is refused on another, so no demo account may use either.
ZHOU_JIE = {"name": "周杰", "id_number": make_id_card("330106", date(1978, 9, 16), 57), "phone": "13800000005"}
ZHOU_JIE_UNIT = 8
ZHANG_SAN_UNITS = 3  # 西湖区 units 1–3
# A married couple holding 西湖区 unit 9 (文三路9号) jointly (共同共有): to sell it both apply, each signing on
# his or her own phone (docs/portal.md, the demo data). Both have demo accounts; 公安 and 民政 know them.
WU_HAO = {"name": "吴昊", "id_number": make_id_card("330106", date(1984, 4, 18), 63), "phone": "13800000006"}
SUN_YUE = {"name": "孙悦", "id_number": make_id_card("330106", date(1987, 8, 25), 64), "phone": "13800000007"}
JOINT_UNIT = 9
BANK = {"name": "中国示范银行股份有限公司杭州分行", "id_number": make_uscc("91", "330100", "MA2DEM01")}
COURT = {"name": "杭州市西湖区人民法院", "id_number": make_uscc("11", "330106", "00250041")}
DEVELOPER = {"name": "杭州示范房地产开发有限公司", "id_number": make_uscc("91", "330106", "MA2DEF01")}
# 房屋经纪机构: files for its clients under a recorded 授权委托书 (app/cases/attorney.py)
AGENT = {"name": "杭州示范房产经纪有限公司", "id_number": make_uscc("91", "330106", "MA2DAG01")}
NEW_BUILD_UNITS = 4  # per district: 示范花园 1幢 2单元, surveyed, land right only (first registration pending)
# 余杭区 示范村: its 村集体经济组织 (credit code issued by 农业农村, ``N2…``; the 主体标识码 is not a GB 11714
# organisation code) holds the village factory under a 集体建设用地使用权/房屋所有权 and may mortgage it with its
# buildings (民法典 398); a villager holds a homestead with his house, which cannot be mortgaged (民法典 399).
VILLAGE_COLLECTIVE = {"name": "杭州市余杭区示范村股份经济合作社",
                      "id_number": make_uscc("N2", "330110", "MF000001", subject_check="3")}
VILLAGER = {"name": "陈阿土", "id_number": make_id_card("330110", date(1966, 5, 20), 61), "phone": "13800000008"}
VILLAGE_DISTRICT = "330110"
VILLAGE_FACTORY_UNIT = make_unit_code(VILLAGE_DISTRICT, 2, 1, "JB", 300, 1, 1)
HOMESTEAD_UNIT = make_unit_code(VILLAGE_DISTRICT, 2, 1, "JC", 301, 1, 1)
# Survey geometry for the certificates' 附图 (metres, app/registry/unit_plan.py): every flat's parcel is one
# 120 × 80 m 宗地 shared by its owners; flats are rectangles or L-shapes of about their floor area. Units 7, 14
# and 21 of each district and the homestead have none, so their certificates say the plan is kept in the book.
FLATS_PARCEL: list[list[float]] = [[0, 0], [120, 0], [120, 80], [0, 80]]
FLATS_PARCEL_AREA = "9600.00"
NO_OUTLINE_EVERY = 7
# 示范花园's 宗地: an L shape
NEW_BUILD_PARCEL: list[list[float]] = [[0, 0], [100, 0], [100, 40], [60, 40], [60, 70], [0, 70]]
NEW_BUILD_PARCEL_AREA = "5800.00"
SURNAMES = "王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗郑"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"


def _user(session: Session, username: str, *, roles: list[str], kind: str | None = None,
          tenant_id: str | None = None, real_name: str | None = None, id_number: str | None = None,
          phone: str | None = None) -> User:
    existing = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    return existing or create_user(session, username=username, password=DEMO_PASSWORD, roles=roles, kind=kind,
                                   tenant_id=tenant_id, real_name=real_name, id_number=id_number, phone=phone)


def _tenants(session: Session) -> None:
    if session.get(Tenant, CITY[0]) is None:
        session.add(Tenant(code=CITY[0], name=CITY[1], level="city", province_abbr="浙"))
        session.flush()
    for code, name, _, _ in DISTRICTS:
        if session.get(Tenant, code) is None:
            session.add(Tenant(code=code, name=name, level="district", parent_code=CITY[0], province_abbr="浙"))
    session.flush()


def _owner(i: int, district: str) -> dict[str, str]:
    return {"name": SURNAMES[i % 20] + GIVEN[(i * 7) % 20],
            "id_number": make_id_card(district, date(1960 + i % 40, 1 + i % 12, 1 + i % 28), 100 + i)}


def register_owner(n: int, district: str) -> dict[str, str]:
    """Who holds demo unit ``n`` of ``district`` in the register book — the same person 公安 knows and who sells
    it in the simulator's 网签 contracts (simulator/data.py), so the demo cases verify."""
    if district == DISTRICTS[0][0] and n <= ZHANG_SAN_UNITS:
        return ZHANG_SAN
    if district == DISTRICTS[0][0] and n == ZHOU_JIE_UNIT:
        return ZHOU_JIE
    return register_holders(n, district)[0] if district == DISTRICTS[0][0] and n == JOINT_UNIT else _owner(n, district)


def register_holders(n: int, district: str) -> list[dict[str, str]]:
    """Every holder of demo unit ``n``: the owner alone, or the couple of the jointly owned flat (the first of
    them sells in the 网签 contract)."""
    if district == DISTRICTS[0][0] and n == JOINT_UNIT:
        return [WU_HAO, SUN_YUE]
    return [register_owner(n, district)]


def _holder(who: dict[str, str], id_type: str = "身份证", share_mode: str = "单独所有") -> dict[str, str]:
    return {"name": who["name"], "id_type": id_type, "id_number": who["id_number"], "share_mode": share_mode}


def flat_outline(floor_area: Decimal, l_shape: bool) -> list[list[float]]:
    """A flat's 分户图: a 10 m wide rectangle, or an L of a 10 m and a 6 m wing, of about ``floor_area`` m²."""
    if not l_shape:
        depth = round(float(floor_area) / 10, 2)
        return [[0, 0], [10, 0], [10, depth], [0, depth]]
    depth = round(float(floor_area) / 8.4, 2)  # 10 × 0.6·depth + 6 × 0.4·depth = 8.4·depth
    step = round(depth * 0.6, 2)
    return [[0, 0], [10, 0], [10, step], [6, step], [6, depth], [0, depth]]


def _survey(n: int, floor_area: Decimal, parcel: list[list[float]], parcel_area: str) -> dict[str, Any]:
    if n % NO_OUTLINE_EVERY == 0:
        return {}
    return {"land_area_m2": parcel_area, "parcel_outline": parcel,
            "building_outline": flat_outline(floor_area, l_shape=n % 2 == 0)}


def unit_records(district: str, area: str, street: str) -> list[dict[str, Any]]:
    """The district's 24 demo units as register-import records (the JSON Lines shape of the importer)."""
    records: list[dict[str, Any]] = []
    for n in range(1, 25):
        owners = register_holders(n, district)
        mode = "共同共有" if len(owners) > 1 else "单独所有"
        rights: list[dict[str, Any]] = [
            {"type": "ownership", "business_no": f"2015{district}10{n:06d}",
             "cert_no": f"浙(2015){area}不动产权第{n:07d}号", "registered_at": f"2015-06-{n:02d}",
             "holders": [_holder(owner, share_mode=mode) for owner in owners]}]
        if n == 4:  # seized by a court
            rights.append({"type": "seizure", "business_no": f"2024{district}80{n:06d}", "registered_at": "2024-03-15",
                           "details": {"court_doc": "(2024)浙0106执1234号"},
                           "holders": [_holder(COURT, "统一社会信用代码")]})
        if n == 5:  # mortgaged to the demo bank
            rights.append({"type": "mortgage", "business_no": f"2023{district}90{n:06d}", "registered_at": "2023-09-20",
                           "amount_yuan": "800000", "holders": [_holder(BANK, "统一社会信用代码")]})
        code = make_unit_code(district, 1, 1, "GB", 100 + (n - 1) // 8, 1 + (n - 1) // 8, 100 + n)
        floor_area = Decimal("60") + n * 3
        records.append({
            "unit_code": code, "tenant": district,
            "location": f"杭州市{street}{n}号{n % 6 + 1}单元{100 + n}室",
            "use": "住宅" if n % 10 else "非住宅", "area_m2": str(floor_area), "right_nature": "出让",
            "land_term_end": "2088-12-31", "rights": rights,
            **_survey(n, floor_area, FLATS_PARCEL, FLATS_PARCEL_AREA)})
    records.extend(new_build_records(district, area, street))
    return records


def new_build_records(district: str, area: str, street: str) -> list[dict[str, Any]]:
    """New flats of the demo developer: surveyed units whose only right is the developer's land right
    (国有建设用地使用权), waiting for 首次登记, 预告登记 and 首次转移登记."""
    records: list[dict[str, Any]] = []
    for n in range(1, NEW_BUILD_UNITS + 1):
        code = make_unit_code(district, 1, 2, "GB", 200, 1, 200 + n)
        records.append({
            "unit_code": code, "tenant": district, "location": f"杭州市{street}示范花园1幢2单元{200 + n}室",
            "use": "住宅", "area_m2": str(Decimal("88") + n), "right_nature": "出让", "land_term_end": "2094-06-30",
            **_survey(n, Decimal("88") + n, NEW_BUILD_PARCEL, NEW_BUILD_PARCEL_AREA),
            "rights": [{"type": "land_use", "business_no": f"2024{district}10{900 + n:06d}",
                        "cert_no": f"浙(2024){area}不动产权第{9000 + n:07d}号", "registered_at": "2024-05-20",
                        "holders": [_holder(DEVELOPER, "统一社会信用代码")]}]})
    return records


def village_records() -> list[dict[str, Any]]:
    """示范村's rural units (DOMAIN.md §1.2 QLLX 8 and 6) as register-import records."""
    return [
        {"unit_code": VILLAGE_FACTORY_UNIT, "tenant": VILLAGE_DISTRICT, "location": "杭州市余杭区示范村村集体厂房1幢",
         "use": "非住宅", "area_m2": "1260.00", "right_nature": "批准拨用", "land_area_m2": "2400.00",
         "parcel_outline": "0 0, 60 0, 60 40, 0 40",  # the WKT-like text form the importer also reads
         "building_outline": "5 5, 45 5, 45 20, 25 20, 25 33, 5 33",
         "rights": [{"type": "collective_house", "business_no": f"2019{VILLAGE_DISTRICT}10300001",
                     "cert_no": "浙(2019)余杭区不动产权第0300001号", "registered_at": "2019-08-16",
                     "holders": [_holder(VILLAGE_COLLECTIVE, "统一社会信用代码")]}]},
        {"unit_code": HOMESTEAD_UNIT, "tenant": VILLAGE_DISTRICT, "location": "杭州市余杭区示范村12号",
         "use": "住宅", "area_m2": "186.00", "right_nature": "批准拨用",
         "rights": [{"type": "homestead_house", "business_no": f"2020{VILLAGE_DISTRICT}10300002",
                     "cert_no": "浙(2020)余杭区不动产权第0300002号", "registered_at": "2020-04-09",
                     "holders": [_holder(VILLAGER)]}]}]


SECTIONS = [("SL", "受理科", ["acceptor"]), ("SH", "审核科", ["reviewer"]),
            ("DF", "登簿发证科", ["recorder", "certifier"])]


def district_sections(session: Session, districts: list[tuple[str, str, str, str]] | None = None,
                      ) -> dict[tuple[str, str], str]:
    """Each district office's sections (科室) in the organisation tree; {(district, role): section id}. The
    demo's 杭州 districts, or a second city's (app/demo_platforms.py)."""
    from app.identity.models import OrgUnit

    ensure_org_tree(session)
    placed: dict[tuple[str, str], str] = {}
    for code, _, _, _ in (DISTRICTS if districts is None else districts):
        office = session.execute(select(OrgUnit).where(OrgUnit.code == code)).scalar_one()
        for suffix, name, roles in SECTIONS:
            node = session.execute(select(OrgUnit).where(OrgUnit.code == f"{code}-{suffix}")).scalar_one_or_none()
            if node is None:
                node = OrgUnit(code=f"{code}-{suffix}", name=name, kind="section", parent_id=office.id,
                               tenant_id=code)
                node.ensure_id()
                session.add(node)
            placed.update({(code, role): node.id for role in roles})
    session.flush()
    return placed


DEMO_INSTITUTIONS = [(BANK, "bank", None, ["bank", "bankadmin"]), (DEVELOPER, "developer", "330106", ["developer"]),
                     (AGENT, "agent", "330106", ["agent"]),
                     (VILLAGE_COLLECTIVE, "collective", VILLAGE_DISTRICT, ["village"]),
                     (COURT, "court", "330106", ["court"])]


def _institutions(session: Session) -> None:
    """The demo organisations (found by USCC), with their accounts attached."""
    for who, kind, tenant, usernames in DEMO_INSTITUTIONS:
        org = session.execute(select(Institution).where(Institution.uscc == who["id_number"])).scalar_one_or_none()
        accounts = list(session.execute(select(User).where(User.username.in_(usernames))).scalars())
        # An organisation the migration made for an existing account (named by its username, no USCC): completed.
        made = next((session.get(Institution, u.institution_id) for u in accounts if u.institution_id), None)
        if org is None and made is not None and made.uscc is None:
            org = made
            org.name, org.uscc, org.institution_type, org.tenant_id = who["name"], who["id_number"], kind, tenant
        if org is None:
            org = create_institution(session, name=who["name"], uscc=who["id_number"], institution_type=kind,
                                     tenant_id=tenant)
        for user in accounts:
            user.institution_id = org.id
    session.flush()


def seed_demo(session: Session) -> str:
    _tenants(session)
    sections = district_sections(session)
    _user(session, "admin", roles=["admin"])
    # 运维: users, roles, organisations, tenants (admin); interfaces, logs, statistics (ops)
    _user(session, "ops", roles=["account_admin", "ops"])  # no pii:unmask: personal data stays masked
    _user(session, "analyst", roles=["analyst"])
    for code, _, prefix, _ in DISTRICTS:
        for role in STAFF_ROLES:
            clerk = _user(session, f"{prefix}_{role}", roles=[role], tenant_id=code)
            clerk.org_unit_id = clerk.org_unit_id or sections[(code, role)]
        _user(session, f"{prefix}_leader", roles=["team_leader", *STAFF_ROLES], tenant_id=code)
        _user(session, f"{prefix}_archivist", roles=["archivist"], tenant_id=code)
    _user(session, "zhangsan", roles=["applicant"], real_name=ZHANG_SAN["name"], id_number=ZHANG_SAN["id_number"],
          phone=ZHANG_SAN["phone"])
    _user(session, "lisi", roles=["applicant"], real_name=LI_SI["name"], id_number=LI_SI["id_number"],
          phone=LI_SI["phone"])
    for username, who in (("wuhao", WU_HAO), ("sunyue", SUN_YUE)):  # the joint owners of 西湖区 unit 9
        _user(session, username, roles=["applicant"], real_name=who["name"], id_number=who["id_number"],
              phone=who["phone"])
    _user(session, "bank", roles=["institution"], real_name=BANK["name"], id_number=BANK["id_number"]
          ).institution_type = "bank"
    _user(session, "developer", roles=["institution"], real_name=DEVELOPER["name"], id_number=DEVELOPER["id_number"]
          ).institution_type = "developer"
    _user(session, "agent", roles=["institution"], real_name=AGENT["name"], id_number=AGENT["id_number"]
          ).institution_type = "agent"
    _user(session, "village", roles=["institution"], real_name=VILLAGE_COLLECTIVE["name"],
          id_number=VILLAGE_COLLECTIVE["id_number"]).institution_type = "collective"
    _user(session, "villager", roles=["applicant"], real_name=VILLAGER["name"], id_number=VILLAGER["id_number"],
          phone=VILLAGER["phone"])
    _user(session, "court", roles=["court"], kind="institution", real_name=COURT["name"], id_number=COURT["id_number"]
          ).institution_type = "court"
    # 机构: every institution account belongs to its organisation; the bank's administrator manages its staff.
    _user(session, "bankadmin", roles=["institution", "institution_admin"], real_name=BANK["name"],
          id_number=BANK["id_number"]).institution_type = "bank"
    _institutions(session)
    records = [r for code, area, _, street in DISTRICTS
               for r in unit_records(code, area, street)]
    records.extend(village_records())
    for number, record in enumerate(records, start=1):
        record["_line"] = number
    report = import_records(session, records, source="demo")
    if not report.ok:
        raise RuntimeError("演示登记簿数据无效：" + "；".join(map(str, report.problems)))
    created = report.created
    return f"demo data ready (password {DEMO_PASSWORD}; {created} new units)"


def bank_mortgage_records(district: str, count: int, *, parcel: int = 700) -> list[dict[str, Any]]:
    """``count`` flats of ``district`` (parcel ``parcel``), each owned by a demo owner and mortgaged to the demo
    bank: register-import records for a bank's batch of 注销 (tests, bench/institution_batch.py). Not part of
    the seeded demo data; unit codes are far from the demo's own (parcels 100–2xx)."""
    records: list[dict[str, Any]] = []
    for n in range(count):
        owner = _owner(n % 800, district)
        code = make_unit_code(district, 1, 3, "GB", parcel + n // 9000, 1 + (n // 100) % 90, 1 + n % 100)
        records.append({
            "unit_code": code, "tenant": district, "location": f"杭州市示范路{parcel}号{1 + (n // 100) % 90}幢"
                                                              f"{1 + n % 100}室",
            "use": "住宅", "area_m2": "88.00", "right_nature": "出让", "land_term_end": "2088-12-31",
            "rights": [{"type": "ownership", "business_no": f"2016{district}1{parcel % 10}{n:06d}",
                        "cert_no": f"浙(2016)示范不动产权第{parcel:03d}{n:05d}号", "registered_at": "2016-05-10",
                        "holders": [_holder(owner)]},
                       {"type": "mortgage", "business_no": f"2022{district}9{parcel % 10}{n:06d}",
                        "registered_at": "2022-08-01", "amount_yuan": "600000",
                        "holders": [_holder(BANK, "统一社会信用代码")]}]})
    return records
