"""Link navigation and definition adoption across four OS processes (issue 20: national 000000, 浙江 330000, 杭州
330100, 宁波 330200; each its own database, prepared as ``make federation-demo`` prepares them:
tests/support/platforms.py). 王宁 signed in at the national process goes 去办理 for his 宁波 海曙区 flat: his browser
carries the signed hops through the province's process to 宁波's, where he lands signed in on the application page.
The province's analyst loads a changed type and publishes it (``flask federation definitions publish`` in the
province's own environment); 宁波 lists and adopts it (its running server serves the new version at once); 杭州
keeps its own version (override) and adopts only when forced. On SQLite and PostgreSQL (TEST_DATABASE_URL)."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from sqlalchemy import select
from support.federation_nav import csrf_token, hop_form
from support.platforms import RunningPlatforms, running_platforms
from support.servers import LiveServer

from app import federation_demo as demo
from app.catalog.models import BusinessType, ProcessVersion
from app.config import ROOT
from app.demo_platforms import WANG_NING, ningbo_unit_code
from app.federation.forward_models import FederatedCase
from app.federation.nav_models import DefinitionAdoption, DefinitionOverride, DefinitionPackage, Navigation
from app.identity.models import User
from app.security.models import AuditEntry

NATIONAL, PROVINCE, HANGZHOU, NINGBO = "000000", "330000", "330100", "330200"
HAISHU = "330203"
TYPE = "transfer_resale"


@pytest.fixture(scope="module")
def platforms(database_templates: dict[str, str], simulator: LiveServer, tmp_path_factory: pytest.TempPathFactory,
              ) -> Iterator[RunningPlatforms]:
    """The four platforms, started once for both tests (their department interfaces on the worker's simulator)."""
    secrets = {name: os.environ[name] for name in demo.DEPARTMENT_SECRETS}
    with running_platforms(tmp_path_factory.mktemp("processes"), template_url=database_templates["empty"],
                           simulator_url=simulator.url, extra_env=secrets) as running:
        yield running


def _tampered(token: str, change: dict[str, object]) -> str:
    body, _, signature = token.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["nav"].update(change)
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=") + "." + signature


def test_navigation_from_the_national_process_lands_signed_in_at_ningbo(platforms: RunningPlatforms) -> None:
    unit_code = ningbo_unit_code(HAISHU, 1)  # 王宁's 海曙区 flat
    with platforms.signed_in(NATIONAL, "wangning") as national:
        token = csrf_token(national.get("/national").text)
        hop = national.post("/national/go", data={"csrf_token": token, "unit_code": unit_code,
                                                  "business_type": "holder_change"})
        assert hop.status_code == 200, hop.text[:500]
        assert hop.headers["Cache-Control"] == "no-store"
        action, fields = hop_form(hop.text)
    assert action == platforms.url(PROVINCE) + "/federation/arrive"

    with httpx.Client(base_url=platforms.url(PROVINCE), timeout=30) as province:
        changed = province.post(action, data={**fields, "assertion": _tampered(fields["assertion"],
                                                                              {"target": "330106"})})
        assert changed.status_code == 403 and "身份断言签名验证失败" in changed.text, changed.text[:500]
        passed = province.post(action, data=fields)
        assert passed.status_code == 200, passed.text[:500]
        city_action, city_fields = hop_form(passed.text)
    assert city_action == platforms.url(NINGBO) + "/federation/arrive"

    with httpx.Client(base_url=platforms.url(NINGBO), timeout=30) as ningbo:
        landed = ningbo.post(city_action, data=city_fields)
        assert landed.status_code == 302, landed.text[:500]
        location = urlsplit(landed.headers["Location"])
        assert location.path == "/apply/holder_change"
        assert parse_qs(location.query) == {"unit_code": [unit_code]}
        page = ningbo.get(landed.headers["Location"])
        assert page.status_code == 200, page.headers.get("Location")  # signed in, not sent to 实名认证
        assert unit_code in page.text

    [(nav_id, user_id, nav_type, target, city, nav_unit)] = platforms.rows(NATIONAL, select(
        Navigation.id, Navigation.user_id, Navigation.business_type_code, Navigation.target_code,
        Navigation.city_code, Navigation.unit_code))
    [wangning] = platforms.rows(NATIONAL, select(User.id).where(User.username == "wangning"))
    assert (user_id, nav_type, target, city, nav_unit) == (wangning[0], "holder_change", HAISHU, NINGBO, unit_code)
    [(status, followed_city, followed_user)] = platforms.rows(NATIONAL, select(
        FederatedCase.status, FederatedCase.city_code, FederatedCase.applicant_user_id)
        .where(FederatedCase.origin_code == NATIONAL, FederatedCase.origin_ref == nav_id))
    assert (status, followed_city, followed_user) == ("navigated", NINGBO, wangning[0])

    [passed_on] = platforms.rows(PROVINCE, select(AuditEntry.after)
                                 .where(AuditEntry.action == "federation.navigation_passed_on"))
    assert passed_on[0] == {"origin": NATIONAL, "ref": nav_id, "type": "holder_change", "city": NINGBO}
    [arrived] = platforms.rows(NINGBO, select(AuditEntry.after)
                               .where(AuditEntry.action == "federation.identity_arrived"))
    assert arrived[0]["navigation"] == {"origin": NATIONAL, "ref": nav_id, "type": "holder_change",
                                        "target": HAISHU}
    assert WANG_NING["id_number"] not in json.dumps(arrived[0], ensure_ascii=False)
    for code in (PROVINCE, NINGBO):  # the ID number is in no audit entry of either platform
        logged = platforms.rows(code, select(AuditEntry.after).where(AuditEntry.action.like("federation.%")))
        assert all(WANG_NING["id_number"] not in json.dumps(a, ensure_ascii=False) for (a,) in logged)


def _flask(p: RunningPlatforms, code: str, *args: str, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    """``flask --app wsgi …`` in the platform's own environment (what its operator types on its server)."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=180,
                          env=demo.environment(p.specs[code], simulator_url=p.simulator_url,
                                               extra={**p.extra, **(env or {})}))


def _definitions(p: RunningPlatforms, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _flask(p, code, "federation", "definitions", *args)


def _current(p: RunningPlatforms, code: str) -> tuple[int, int]:
    """The type's current version number and time limit in the platform's database."""
    [(version_no, definition)] = p.rows(code, select(ProcessVersion.version_no, ProcessVersion.definition)
                                        .join(BusinessType, BusinessType.current_version_id == ProcessVersion.id)
                                        .where(BusinessType.code == TYPE))
    return version_no, int(definition["time_limit_days"])


def _served(p: RunningPlatforms, code: str) -> tuple[int, int]:
    """What the platform's running server says of the type (its public business-type API)."""
    reply = httpx.get(p.url(code) + f"/api/v1/business-types/{TYPE}", timeout=10)
    assert reply.status_code == 200, reply.text[:300]
    return reply.json()["version"], reply.json()["time_limit_days"]


def _changed_definitions(root: Path) -> Path:
    """The province's analysts' definitions: the repository's, with the type's time limit shortened to 3 days."""
    for part in ("processes", "forms"):
        shutil.copytree(ROOT / part, root / part)
    (root / "dictionaries").symlink_to(ROOT / "dictionaries")
    business_file = root / "processes" / TYPE / "business.yaml"
    business = yaml.safe_load(business_file.read_text(encoding="utf-8"))
    business["time_limit_days"] = 3
    business_file.write_text(yaml.safe_dump(business, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def test_a_province_package_is_adopted_by_ningbo_and_kept_out_by_hangzhou(platforms: RunningPlatforms,
                                                                          tmp_path: Path) -> None:
    before = _current(platforms, PROVINCE)
    assert before[1] != 3
    ningbo_before, hangzhou_before = _current(platforms, NINGBO), _current(platforms, HANGZHOU)
    assert _served(platforms, NINGBO) == ningbo_before

    loaded = _flask(platforms, PROVINCE, "defs", "load",
                    env={"DEFINITIONS_ROOT": str(_changed_definitions(tmp_path / "defs"))})
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert _current(platforms, PROVINCE) == (before[0] + 1, 3)
    published = _definitions(platforms, PROVINCE, "publish", TYPE)
    assert published.returncode == 0, published.stdout + published.stderr
    assert f"已发布 第 {before[0] + 1} 版" in published.stdout
    [(package_version, package_sha256)] = platforms.rows(PROVINCE, select(
        DefinitionPackage.version, DefinitionPackage.package_sha256)
        .where(DefinitionPackage.business_type_code == TYPE))
    assert package_version == before[0] + 1 and f"sha256={package_sha256}" in published.stdout

    listed = _definitions(platforms, NINGBO, "list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert f"{TYPE}  二手房转移登记（存量房转移登记）  第 {package_version} 版  未采用" in listed.stdout
    adopted = _definitions(platforms, NINGBO, "adopt", TYPE)
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert f"已采用 {PROVINCE} 第 {package_version} 版 sha256={package_sha256}" in adopted.stdout
    new_version = ningbo_before[0] + 1
    assert _current(platforms, NINGBO) == (new_version, 3)
    [(province, version, sha256, version_id, forced)] = platforms.rows(NINGBO, select(
        DefinitionAdoption.province_code, DefinitionAdoption.package_version, DefinitionAdoption.package_sha256,
        DefinitionAdoption.process_version_id, DefinitionAdoption.forced))
    assert (province, version, sha256, forced) == (PROVINCE, package_version, package_sha256, False)
    assert platforms.rows(NINGBO, select(ProcessVersion.version_no).where(ProcessVersion.id == version_id)) == [
        (new_version,)]
    assert f"第 {package_version} 版  已采用" in _definitions(platforms, NINGBO, "list").stdout
    assert _served(platforms, NINGBO) == (new_version, 3)  # the running 宁波 process serves it at once

    marked = _definitions(platforms, HANGZHOU, "override", TYPE, "--reason", "本市另有材料要求")
    assert marked.returncode == 0 and "已设为本地覆盖" in marked.stdout, marked.stdout + marked.stderr
    kept = _definitions(platforms, HANGZHOU, "adopt", TYPE)
    assert kept.returncode == 1 and "未采用：本市对业务" in kept.stderr and "本地覆盖" in kept.stderr, kept.stderr
    assert _current(platforms, HANGZHOU) == hangzhou_before and _served(platforms, HANGZHOU) == hangzhou_before
    assert platforms.rows(HANGZHOU, select(DefinitionAdoption.id)) == []
    forced_adoption = _definitions(platforms, HANGZHOU, "adopt", TYPE, "--force")
    assert forced_adoption.returncode == 0, forced_adoption.stdout + forced_adoption.stderr
    assert _current(platforms, HANGZHOU) == (hangzhou_before[0] + 1, 3)
    assert _served(platforms, HANGZHOU) == (hangzhou_before[0] + 1, 3)
    assert platforms.rows(HANGZHOU, select(DefinitionAdoption.forced, DefinitionAdoption.package_sha256)) == [
        (True, package_sha256)]
    assert platforms.rows(HANGZHOU, select(DefinitionOverride.business_type_code)) == []
    assert platforms.rows(HANGZHOU, select(AuditEntry.action).where(AuditEntry.action.like("federation.definition%"))
                          .order_by(AuditEntry.seq)) == [("federation.definition_overridden",),
                                                         ("federation.definition_adopted",)]
