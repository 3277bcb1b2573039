"""The city's side of the province-wide 无房证明 (``POST /federation/queries/no-property``, served for real on the
worker's loopback port) and the demo data each platform seeds for its level and code (app/demo_platforms.py)."""
from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import func, select

from app.demo import LI_SI, ZHANG_SAN
from app.demo_platforms import NINGBO_DISTRICTS, WANG_NING, seed_for_platform
from app.federation.client import signed_headers
from app.federation.peers import add_peer
from app.federation.signing import public_key_text
from app.identity.models import Tenant, User
from app.identity.seed import load_roles
from app.registry.models import RealtyUnit
from app.security.models import AuditEntry

CITY, PROVINCE, OTHER_CITY = "330100", "330000", "330200"
PATH = "/federation/queries/no-property"


def _trust(app: Flask, code: str, level: str) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        add_peer(session, code=code, name=code, level=level, base_url="http://127.0.0.1:9",
                 public_key=public_key_text(key))
    return key


def _ask(app: Flask, key: Ed25519PrivateKey, sender: str, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = signed_headers(key, sender=sender, audience=CITY, method="POST", path=PATH, body=raw)
    return httpx.post(app.config["LIVE_URL"] + PATH, content=raw, timeout=10,
                      headers={**headers, "Content-Type": "application/json", "Accept": "application/json"})


@pytest.fixture
def city(seeded: Flask) -> Flask:
    settings = seeded.config["SETTINGS"]
    settings.platform_level, settings.platform_code = "city", CITY
    return seeded


def test_the_city_answers_its_province_from_its_register_and_audits_without_personal_data(city: Flask) -> None:
    key = _trust(city, PROVINCE, "province")
    owner = _ask(city, key, PROVINCE, {"name": ZHANG_SAN["name"], "id_number": ZHANG_SAN["id_number"],
                                       "purpose": "购房资格审核", "query": "q1"})
    assert owner.status_code == 200, owner.text
    assert owner.json() == {"platform": CITY, "name": "杭州市", "holds": True, "owned_units": 3}
    nobody = _ask(city, key, PROVINCE, {"name": LI_SI["name"], "id_number": LI_SI["id_number"], "purpose": "落户"})
    assert nobody.json() == {"platform": CITY, "name": "杭州市", "holds": False, "owned_units": 0}
    with city.app_context(), city.extensions["db"].unit_of_work() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == "federation.no_property_answered")
                                  .order_by(AuditEntry.seq)).scalars().all()
        logged = [(e.object_id, e.after) for e in entries]
    assert logged == [(PROVINCE, {"purpose": "购房资格审核", "query": "q1", "outcome": "holds"}),
                      (PROVINCE, {"purpose": "落户", "query": "", "outcome": "none"})]
    assert ZHANG_SAN["id_number"] not in str(logged) and ZHANG_SAN["name"] not in str(logged)


def test_only_a_province_may_ask_and_the_question_must_be_whole(city: Flask) -> None:
    other_city = _trust(city, OTHER_CITY, "city")
    refused = _ask(city, other_city, OTHER_CITY, {"name": LI_SI["name"], "id_number": LI_SI["id_number"],
                                                  "purpose": "落户"})
    assert (refused.status_code, refused.json()["code"]) == (403, "peer_not_allowed")
    province = _trust(city, PROVINCE, "province")
    wrong_check = LI_SI["id_number"][:17] + ("0" if LI_SI["id_number"][17] != "0" else "1")
    bad_id = _ask(city, province, PROVINCE, {"name": LI_SI["name"], "id_number": wrong_check, "purpose": "落户"})
    assert (bad_id.status_code, bad_id.json()["code"]) == (422, "validation_failed")
    no_purpose = _ask(city, province, PROVINCE, {"name": LI_SI["name"], "id_number": LI_SI["id_number"]})
    assert (no_purpose.status_code, no_purpose.json()["errors"]) == (422, {"purpose": ["请提供查询用途"]})
    unsigned = httpx.post(city.config["LIVE_URL"] + PATH, json={}, headers={"Accept": "application/json"})
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "peer_unknown")


def _seed(app: Flask, level: str, code: str) -> str:
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        load_roles(session)
        return seed_for_platform(session, level, code)


def test_ningbo_seeds_its_own_districts_staff_people_and_flats_once(app: Flask) -> None:
    assert "24 new units" in _seed(app, "city", OTHER_CITY)
    assert "0 new units" in _seed(app, "city", OTHER_CITY)  # idempotent: a second setup adds nothing
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        tenants = {t.code: (t.level, t.parent_code) for t in session.execute(select(Tenant)).scalars()}
        assert tenants == {OTHER_CITY: ("city", None), "330203": ("district", OTHER_CITY),
                           "330212": ("district", OTHER_CITY)}
        units = session.execute(select(RealtyUnit.tenant_id, func.count()).group_by(RealtyUnit.tenant_id)
                                .execution_options(all_tenants=True)).all()
        assert sorted(units) == [("330203", 12), ("330212", 12)]
        names = set(session.execute(select(User.username)).scalars())
        for prefix in ("hs", "yz"):
            assert {f"{prefix}_acceptor", f"{prefix}_reviewer", f"{prefix}_recorder", f"{prefix}_certifier",
                    f"{prefix}_leader"} <= names
        assert {"admin", "ops", "zhangsan", "lisi", "wangning"} <= names
        assert not {"xh_acceptor", "bank"} & names  # nothing of 杭州's
    from app.registry.certificates import owned_units_count
    from app.security.fields import blind_index

    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        assert owned_units_count(session, blind_index(WANG_NING["id_number"])) == 2
        assert owned_units_count(session, blind_index(ZHANG_SAN["id_number"])) == 0
    assert [d[0] for d in NINGBO_DISTRICTS] == ["330203", "330212"]


@pytest.mark.parametrize(("level", "code"), [("province", PROVINCE), ("national", "000000")])
def test_upper_platforms_seed_operators_and_applicants_but_no_units(app: Flask, level: str, code: str) -> None:
    _seed(app, level, code)
    _seed(app, level, code)
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(RealtyUnit)
                               .execution_options(all_tenants=True)).scalar_one() == 0
        tenants = [(t.code, t.name, t.level, t.province_abbr) for t in session.execute(select(Tenant)).scalars()]
        assert tenants == ([(PROVINCE, "浙江省", "province", "浙")] if level == "province" else [])
        names = set(session.execute(select(User.username)).scalars())
        assert names == {"admin", "ops", "analyst", "zhangsan", "lisi", "wangning"}


def test_hangzhou_the_default_city_seeds_the_demo_data_as_always(app: Flask) -> None:
    """`make run` (city 330100, the default) seeds exactly app.demo's 杭州 data."""
    assert "58 new units" in _seed(app, "city", CITY)
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        assert {t.code for t in session.execute(select(Tenant)).scalars()} == {CITY, "330106", "330110"}
        assert "wangning" not in set(session.execute(select(User.username)).scalars())


def test_the_province_query_timeout_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import ConfigError, Settings

    monkeypatch.setenv("FEDERATION_QUERY_TIMEOUT_S", "5")
    assert Settings.from_env().federation_query_timeout_s == 5.0
    monkeypatch.setenv("FEDERATION_QUERY_TIMEOUT_S", "0")
    with pytest.raises(ConfigError, match="FEDERATION_QUERY_TIMEOUT_S"):
        Settings.from_env()
