"""Definition packages between two platforms (issue 20 §1): the province 浙江 (its own app and database on a
loopback port) publishes a changed business type as a package signed with its key; the city 杭州 fetches it with
a signed request, checks the province's signature, adopts it as a new version through the catalog's loader and
files an application of it; a tampered or unsigned package is refused; a type the city keeps as its own is not
replaced unless forced."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from flask import Flask
from sqlalchemy import select
from support.cases import file_application
from support.federation_nav import PROVINCE, Platform, city_platform, csrf_token, extra_platform, sign_in, trust
from support.forms import transfer_form

from app.casefile.models import Case
from app.catalog.config import dump_yaml, publish_files, type_files
from app.catalog.models import ProcessVersion
from app.catalog.service import current_version
from app.config import ROOT
from app.federation.nav_models import DefinitionAdoption, DefinitionOverride, DefinitionPackage
from app.security.models import AuditEntry

TYPE = "transfer_resale"


@pytest.fixture
def platforms(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
              tmp_path: Path) -> Iterator[tuple[Platform, Platform]]:
    city = city_platform(seeded)
    with extra_platform("province", PROVINCE, template="seeded", base_database_url=base_database_url,
                        database_templates=database_templates, tmp_path=tmp_path) as province:
        trust(province, city)
        trust(city, province)
        yield province, city


def _province_changes_the_type(province: Platform, time_limit_days: int = 3) -> None:
    """The province's analysts shorten the time limit: the type's version 2 there."""
    with province.app.app_context(), province.unit_of_work() as session:
        files = type_files(current_version(session, TYPE))
        business_file = f"processes/{TYPE}/business.yaml"
        business = yaml.safe_load(files[business_file])
        business["time_limit_days"] = time_limit_days
        version, _ = publish_files(session, ROOT, TYPE, {**files, business_file: dump_yaml(business)}, None)
        assert version.version_no == 2


def _flask(platform: Platform, *args: str) -> Any:
    return platform.app.test_cli_runner().invoke(args=["federation", "definitions", *args])


def _city_version(city: Platform) -> tuple[int, int]:
    with city.app.app_context(), city.unit_of_work() as session:
        version = current_version(session, TYPE)
        return version.version_no, int(version.definition["time_limit_days"])


def _publish(province: Platform) -> None:
    _province_changes_the_type(province)
    published = _flask(province, "publish", TYPE)
    assert published.exit_code == 0, published.output
    assert "已发布 第 2 版" in published.output
    again = _flask(province, "publish", TYPE)  # the same version is one package
    assert "已是已发布版本 第 2 版" in again.output


def test_published_package_is_adopted_and_the_city_files_that_type(platforms: tuple[Platform, Platform],
                                                                    login: Any) -> None:
    province, city = platforms
    _publish(province)
    assert _city_version(city) == (1, 5)
    listed = _flask(city, "list")
    assert listed.exit_code == 0, listed.output
    assert f"{TYPE}  二手房转移登记（存量房转移登记）  第 2 版  未采用" in listed.output
    fetched = _flask(city, "fetch", TYPE)
    assert fetched.exit_code == 0 and "第 2 版签名有效（330000）" in fetched.output, fetched.output
    assert _city_version(city) == (1, 5)  # fetch installs nothing
    adopted = _flask(city, "adopt", TYPE)
    assert adopted.exit_code == 0, adopted.output
    assert "已采用 330000 第 2 版" in adopted.output and "新版本 v2" in adopted.output
    assert _city_version(city) == (2, 3)
    assert "第 2 版  已采用" in _flask(city, "list").output
    with province.unit_of_work() as session:
        package = session.execute(select(DefinitionPackage)).scalars().one()
    with city.unit_of_work() as session:
        adoption = session.execute(select(DefinitionAdoption)).scalars().one()
        version_id = session.execute(select(ProcessVersion.id).where(
            ProcessVersion.business_type_code == TYPE, ProcessVersion.version_no == 2)).scalar_one()
        audit = session.execute(select(AuditEntry.after).where(
            AuditEntry.action == "federation.definition_adopted")).scalars().one()
    assert (adoption.province_code, adoption.package_version, adoption.package_sha256,
            adoption.process_version_id, adoption.forced) == (PROVINCE, 2, package.package_sha256, version_id, False)
    assert audit == {"province": PROVINCE, "version": 2, "sha256": package.package_sha256, "version_no": 2,
                     "forced": False}

    submitted = file_application(login, "zhangsan", TYPE, transfer_form(), confirmers=("lisi",))
    assert submitted.status_code == 200, submitted.get_json()
    with city.unit_of_work() as session:
        case = session.get(Case, submitted.get_json()["id"])
        assert case is not None and case.process_version_id == version_id


def test_tampered_and_unsigned_packages_are_refused(platforms: tuple[Platform, Platform]) -> None:
    province, city = platforms
    _publish(province)
    with province.unit_of_work() as session:
        row = session.execute(select(DefinitionPackage)).scalars().one()
        signed_text = row.package
        row.package = signed_text.replace('"version":2', '"version":2,"note":"改"')
    refused = _flask(city, "adopt", TYPE)
    assert refused.exit_code == 1 and "签名验证失败" in refused.output, refused.output
    with province.unit_of_work() as session:
        row = session.execute(select(DefinitionPackage)).scalars().one()
        row.package, row.signature = signed_text, ""
    unsigned = _flask(city, "adopt", TYPE)
    assert unsigned.exit_code == 1 and "没有签名" in unsigned.output, unsigned.output
    assert _city_version(city) == (1, 5)
    with city.unit_of_work() as session:
        assert session.execute(select(DefinitionAdoption.id)).all() == []
    # only a signed request of one of its cities is answered
    anonymous = httpx.get(province.url + "/federation/definitions", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "peer_unknown"
    on_city = _flask(city, "publish", TYPE)
    assert on_city.exit_code == 1 and "只有省级平台" in on_city.output


def test_an_overridden_type_is_kept_unless_forced(platforms: tuple[Platform, Platform]) -> None:
    province, city = platforms
    _publish(province)
    marked = _flask(city, "override", TYPE, "--reason", "本市另有材料要求")
    assert marked.exit_code == 0 and "已设为本地覆盖" in marked.output
    assert "第 2 版  本地覆盖" in _flask(city, "list").output
    kept = _flask(city, "adopt", TYPE)
    assert kept.exit_code == 1 and "本地覆盖" in kept.output, kept.output
    assert _city_version(city) == (1, 5)
    forced = _flask(city, "adopt", TYPE, "--force")
    assert forced.exit_code == 0, forced.output
    assert _city_version(city) == (2, 3)
    with city.unit_of_work() as session:
        assert session.get(DefinitionOverride, TYPE) is None  # following the province again
        assert session.execute(select(DefinitionAdoption.forced)).scalars().all() == [True]
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.action.like("federation.definition%"))
                                  .order_by(AuditEntry.seq)).scalars().all()
    assert actions == ["federation.definition_overridden", "federation.definition_adopted"]
    assert _flask(city, "override", TYPE, "--off").exit_code == 1  # nothing to clear any more


def test_the_admin_pages_publish_adopt_and_override(platforms: tuple[Platform, Platform], page_login: Any) -> None:
    province, city = platforms
    _province_changes_the_type(province, time_limit_days=4)
    with province.browser() as browser:  # the province's analyst publishes from the page
        sign_in(browser, "analyst")
        page = browser.get("/admin/federation/definitions")
        assert page.status_code == 200 and "二手房转移登记（存量房转移登记）" in page.text
        published = browser.post(f"/admin/federation/definitions/{TYPE}/publish",
                                 data={"csrf_token": csrf_token(page.text)})
        assert published.status_code == 302, published.text[:300]
        assert "第 2 版" in browser.get("/admin/federation/definitions").text
    analyst = page_login("analyst")  # the city's analyst
    listed = analyst.client.get("/admin/federation/definitions").get_data(as_text=True)
    assert "第 2 版" in listed and "未采用" in listed and "本地覆盖" in listed
    kept = analyst.post_form(f"/admin/federation/definitions/{TYPE}/override", {"reason": "本市另有材料要求"})
    assert kept.status_code == 302
    assert "本地覆盖（本市另有材料要求）" in analyst.client.get("/admin/federation/definitions").get_data(as_text=True)
    refused = analyst.post_form(f"/admin/federation/definitions/{TYPE}/adopt", {})
    assert refused.status_code == 302
    assert "未采用：本市对业务" in analyst.client.get("/admin/federation/definitions").get_data(as_text=True)
    assert _city_version(city) == (1, 5)
    cleared = analyst.post_form(f"/admin/federation/definitions/{TYPE}/override", {"off": "1"})
    assert cleared.status_code == 302
    adopted = analyst.post_form(f"/admin/federation/definitions/{TYPE}/adopt", {})
    assert adopted.status_code == 302
    after = analyst.client.get("/admin/federation/definitions").get_data(as_text=True)
    assert "已采用330000第 2 版" in after and ">已采用" in after.replace("\n", "").replace(" ", "")
    assert _city_version(city) == (2, 4)
    clerk = page_login("xh_acceptor")  # no defs:read
    assert clerk.client.get("/admin/federation/definitions").status_code == 403
