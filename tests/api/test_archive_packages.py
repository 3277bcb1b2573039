"""电子档案 (issue 19 part 2): a case that ended — registered (after 制证), refused, withdrawn — gets one signed,
time-stamped DA/T 48 package built by a job; it validates OFFLINE (signature, time stamp, each file's SHA-256);
the fixity check catches a changed file; 调阅 needs a purpose and is audited; export reaches the archive system
(the simulator) and a directory drop; nothing is deleted before its term."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select
from support.cases import complete_stage, take_through

from app.archives import eep
from app.archives.building import build_pending
from app.archives.export import export_pending
from app.archives.fixity import check_due
from app.archives.models import ArchiveConsultation, ArchiveFile, ArchivePackage
from app.archives.verify import verify_package
from app.demo import DEMO_PASSWORD, ZHANG_SAN
from app.errors import Conflict
from app.security.models import AuditEntry


def build(app: Flask) -> int:
    from app.registry.certificates import issuing_config

    with app.app_context():
        session = app.extensions["db"].session_factory()
        try:
            return build_pending(session, app.extensions["storage"], issuing_config().font)
        finally:
            session.close()


def run(app: Flask, work: Any) -> Any:
    with app.app_context():
        session = app.extensions["db"].session_factory()
        try:
            return work(session)
        finally:
            session.close()


def the_package(app: Flask, business_no: str) -> ArchivePackage:
    with app.extensions["db"].unit_of_work() as session:
        package = session.scalars(select(ArchivePackage).where(ArchivePackage.business_no == business_no)).one()
        session.expunge(package)
        return package


def stored_xml(app: Flask, package: ArchivePackage) -> bytes:
    return bytes(app.extensions["storage"].get(package.storage_key, tenant_id=package.tenant_id))


def office_cert(app: Flask) -> bytes:
    with app.app_context():
        from app.registry.checkpoints import office_keys

        return office_keys()[1]


def audited(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["db"].unit_of_work() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def registered(login: Any, submitted_transfer: dict[str, Any]) -> str:
    take_through(login, submitted_transfer["business_no"])  # 缮证 renders the certificate (制证) too
    return str(submitted_transfer["business_no"])


def test_a_finished_case_is_archived_once_and_validates_offline(seeded: Flask, login: Any,
                                                                submitted_transfer: dict, tmp_path: Path) -> None:
    business_no = registered(login, submitted_transfer)
    assert build(seeded) == 1
    assert build(seeded) == 0  # idempotent: one package per case
    package = the_package(seeded, business_no)
    assert (package.category, package.retention, package.retain_until, package.outcome) == (
        "登记类", "永久", None, "completed")
    assert package.archive_no == f"330106-BDC·{package.built_at.year}-Y-{business_no}"
    xml = stored_xml(seeded, package)
    assert hashlib.sha256(xml).hexdigest() == package.sha256
    check = verify_package(xml, office_cert(seeded))
    assert check.ok, check.problems
    assert check.stamped_at is not None and check.documents == package.item_count

    parsed = eep.parse(xml)
    kinds = [d["kind"] for d in parsed.documents]
    assert {"application", "material", "certificate", "register", "history"} <= set(kinds), kinds
    application = json.loads(eep.document_content(parsed, kinds.index("application") + 1)[1])
    assert {p["name"] for p in application["parties"]} == {"张三", "李四"}
    assert all(p["confirmed_at"] for p in application["parties"]) and application["form"]
    assert "notice" in kinds  # 受理通知书
    with seeded.extensions["db"].unit_of_work() as session:
        files = list(session.scalars(select(ArchiveFile).where(ArchiveFile.package_id == package.id)
                                     .order_by(ArchiveFile.seq)))
    assert [(f.seq, f.sha256) for f in files] == [
        (d["seq"], hashlib.sha256(base64.b64decode(d["data"])).hexdigest()) for d in parsed.documents]
    assert package.item_count == len(files) and package.page_count == sum(f.pages for f in files) >= len(files)
    root = etree.fromstring(xml)
    ns = {"e": eep.NS}
    assert root.findtext("e:版本", namespaces=ns) == "2009"
    assert root.find("e:被签名对象/e:封装内容/e:业务实体块/e:业务实体", ns) is not None
    assert root.find("e:被签名对象/e:封装内容/e:机构人员实体块/e:机构人员实体", ns) is not None
    assert root.find("e:电子签名块/e:电子签名/e:时间戳", ns) is not None
    assert [e.after["archive_no"] for e in audited(seeded, "archive.build")] == [package.archive_no]

    path = tmp_path / "package.xml"
    path.write_bytes(xml)
    cert = tmp_path / "office.pem"
    cert.write_bytes(office_cert(seeded))
    result = seeded.test_cli_runner().invoke(args=["archives", "verify", str(path), "--cert", str(cert)])
    assert result.exit_code == 0, result.output
    assert "校验通过" in result.output


def tampered(xml: bytes) -> bytes:
    """The first material's bytes changed inside the package, its recorded digest left as it was."""
    root = etree.fromstring(xml)
    data = root.find(f".//{{{eep.NS}}}编码数据")
    assert data is not None and data.text
    data.text = base64.b64encode(base64.b64decode(data.text) + b"\x00changed").decode()
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_a_changed_file_is_caught_offline_and_by_the_fixity_check(seeded: Flask, login: Any,
                                                                   submitted_transfer: dict, tmp_path: Path) -> None:
    business_no = registered(login, submitted_transfer)
    assert build(seeded) == 1
    package = the_package(seeded, business_no)
    assert run(seeded, lambda s: check_due(s, seeded.extensions["storage"], ids=[package.id])).failed == 0

    changed = tampered(stored_xml(seeded, package))
    check = verify_package(changed, office_cert(seeded))
    assert not check.ok
    assert any("签名无效" in p for p in check.problems) and any("文档 1" in p for p in check.problems), check.problems
    path = tmp_path / "changed.xml"
    path.write_bytes(changed)
    result = seeded.test_cli_runner().invoke(args=["archives", "verify", str(path)])
    assert result.exit_code == 1 and "签名无效" in result.output

    storage = seeded.extensions["storage"]  # the stored file replaced, sealed with the same key (an insider)
    sealed = storage.cipher.seal(changed, tenant_id=package.tenant_id, name=package.storage_key)
    storage._path(package.storage_key).write_bytes(sealed)
    run_ = run(seeded, lambda s: check_due(s, storage, ids=[package.id]))
    assert (run_.checked, run_.failed) == (1, 1)
    package = the_package(seeded, business_no)
    assert package.fixity_ok is False and "SHA-256" in (package.fixity_problem or "")
    assert [e.object_id for e in audited(seeded, "archive.fixity_failed")] == [package.id]
    run(seeded, lambda s: check_due(s, storage, ids=[package.id]))  # still bad: audited once, when it turned
    assert len(audited(seeded, "archive.fixity_failed")) == 1

    result = seeded.test_cli_runner().invoke(args=["archives", "fixity", "--all"])
    assert result.exit_code == 1 and "1 个与归档时不符" in result.output


def test_a_refused_case_is_archived_with_its_notice(seeded: Flask, login: Any, submitted_transfer: dict) -> None:
    business_no = submitted_transfer["business_no"]
    resp = complete_stage(login("xh_acceptor"), business_no, "受理", "reject",
                          reject_reasons=["申请材料与登记簿记载不一致"])
    assert resp.status_code == 200 and resp.get_json()["case_status"] == "rejected"
    result = seeded.test_cli_runner().invoke(args=["archives", "build"])  # the job's work, by hand
    assert result.exit_code == 0 and "已生成 1 个档案封装包" in result.output, result.output
    package = the_package(seeded, business_no)
    assert (package.category, package.retention, package.outcome) == ("不予受理类", "30年", "rejected")
    assert package.retain_until is not None and package.retain_until.year == package.built_at.year + 31
    parsed = eep.parse(stored_xml(seeded, package))
    assert [d["title"] for d in parsed.documents if d["kind"] == "notice"] == ["不予受理告知书"]
    assert "certificate" not in {d["kind"] for d in parsed.documents}
    assert verify_package(stored_xml(seeded, package), office_cert(seeded)).ok
    result = seeded.test_cli_runner().invoke(args=["archives", "export"])
    assert result.exit_code == 0 and "档案接收系统已确认 1 个封装包" in result.output, result.output


def test_a_case_still_at_certify_waits_and_one_in_progress_is_not_archived(seeded: Flask, login: Any,
                                                                             submitted_transfer: dict) -> None:
    assert build(seeded) == 0  # submitted, not ended
    take_through(login, submitted_transfer["business_no"], ("受理", "审核", "登簿"))
    assert build(seeded) == 0


def sign_in(client: FlaskClient, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": token.group(1)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_consultation_needs_a_purpose_is_audited_and_shows_the_package_read_only(
        seeded: Flask, login: Any, client: FlaskClient, submitted_transfer: dict) -> None:
    business_no = registered(login, submitted_transfer)
    assert build(seeded) == 1
    package = the_package(seeded, business_no)

    sign_in(client, "xh_archivist")
    page = client.get("/workbench/archives")
    assert page.status_code == 200 and package.archive_no in page.get_data(as_text=True)
    token = csrf_of(page.get_data(as_text=True))
    found = client.post("/workbench/archives", data={"csrf_token": token, "holder_id_number": ZHANG_SAN["id_number"]})
    assert found.status_code == 200 and f'data-business-no="{business_no}"' in found.get_data(as_text=True)
    none = client.post("/workbench/archives", data={"csrf_token": token, "holder_id_number": "110101199001011237"})
    assert f'data-business-no="{business_no}"' not in none.get_data(as_text=True)
    by_unit = client.get("/workbench/archives", query_string={"unit_code": package.unit_code})
    assert f'data-business-no="{business_no}"' in by_unit.get_data(as_text=True)

    refused = client.post(f"/workbench/archives/{package.id}/consult", data={"csrf_token": token, "purpose": " "})
    assert refused.status_code == 422 and "请填写调阅目的" in refused.get_data(as_text=True)
    assert audited(seeded, "archive.consult") == []

    resp = client.post(f"/workbench/archives/{package.id}/consult",
                       data={"csrf_token": token, "purpose": "法院调查取证（（2026）浙0106民初123号）"})
    assert resp.status_code == 302
    shown = client.get(resp.headers["Location"])
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and package.archive_no in html and "只读调阅" in html
    assert "<form" not in html.split("<main", 1)[-1].split("</main>")[0]  # nothing to change on it
    [entry] = audited(seeded, "archive.consult")
    assert entry.after["purpose"] == "法院调查取证（（2026）浙0106民初123号）" and entry.object_id == package.id
    with seeded.extensions["db"].unit_of_work() as session:
        [consultation] = session.scalars(select(ArchiveConsultation)).all()
    download = client.get(f"/workbench/archives/consultations/{consultation.id}/files/1")
    assert download.status_code == 200
    with seeded.extensions["db"].unit_of_work() as session:
        first = session.scalars(select(ArchiveFile).where(ArchiveFile.package_id == package.id,
                                                          ArchiveFile.seq == 1)).one()
    assert hashlib.sha256(download.data).hexdigest() == first.sha256

    other = seeded.test_client()  # another archivist cannot open this consultation; a clerk sees no archive
    sign_in(other, "xh_acceptor")
    assert other.get("/workbench/archives").status_code == 403
    assert other.get(f"/workbench/archives/consultations/{consultation.id}").status_code == 403


def sim_received(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_control/state", timeout=5) as resp:
        return list(json.load(resp)["received"].get("archive", []))


def test_export_reaches_the_archive_system_and_the_drop_directory(seeded: Flask, login: Any, simulator: Any,
                                                                  submitted_transfer: dict, tmp_path: Path) -> None:
    business_no = registered(login, submitted_transfer)
    assert build(seeded) == 1
    package = the_package(seeded, business_no)
    storage = seeded.extensions["storage"]
    drop = tmp_path / "drop"
    assert run(seeded, lambda s: export_pending(s, storage, drop)) == 1
    assert run(seeded, lambda s: export_pending(s, storage, drop)) == 0  # nothing left to send
    [received] = [r for r in sim_received(simulator.url) if r["key"] == package.archive_no]
    assert received["body"]["sha256"] == package.sha256 and received["body"]["size"] == package.size
    package = the_package(seeded, business_no)
    assert package.export_receipt == received["body"]["receipt"] and package.exported_dir_at is not None
    dropped = drop / f"{package.archive_no}.xml"
    assert hashlib.sha256(dropped.read_bytes()).hexdigest() == package.sha256
    assert (drop / f"{package.archive_no}.xml.sha256").read_text().startswith(package.sha256)
    assert verify_package(dropped.read_bytes(), office_cert(seeded)).ok
    assert [e.after["receipt"] for e in audited(seeded, "archive.export")] == [package.export_receipt]


def test_a_package_is_not_deleted_before_its_term(seeded: Flask, login: Any, submitted_transfer: dict) -> None:
    business_no = registered(login, submitted_transfer)
    assert build(seeded) == 1
    with pytest.raises(Conflict) as refused:
        with seeded.extensions["db"].unit_of_work() as session:
            session.delete(session.scalars(select(ArchivePackage)
                                           .where(ArchivePackage.business_no == business_no)).one())
    assert refused.value.code == "archive_retained" and "永久" in refused.value.message
    assert the_package(seeded, business_no).archive_no


def test_a_case_waits_for_the_time_stamping_authority_and_the_archive_system(
        seeded: Flask, login: Any, simulator: Any, submitted_transfer: dict) -> None:
    from support.servers import simulator_control

    business_no = registered(login, submitted_transfer)
    simulator_control(simulator, "tsa", "fail")
    assert build(seeded) == 0  # not archived without its time stamp; nothing half-written
    with seeded.extensions["db"].unit_of_work() as session:
        assert session.scalars(select(ArchivePackage)).all() == []
        assert session.scalars(select(ArchiveFile)).all() == []
    simulator_control(simulator, "tsa", "ok")
    assert build(seeded) == 1

    storage = seeded.extensions["storage"]
    simulator_control(simulator, "archive", "fail")
    assert run(seeded, lambda s: export_pending(s, storage, None)) == 0
    assert the_package(seeded, business_no).exported_http_at is None
    simulator_control(simulator, "archive", "ok")
    assert run(seeded, lambda s: export_pending(s, storage, None)) == 1
    assert the_package(seeded, business_no).export_receipt


def test_another_districts_archivist_neither_finds_nor_consults_the_package(
        seeded: Flask, login: Any, client: FlaskClient, submitted_transfer: dict) -> None:
    business_no = registered(login, submitted_transfer)
    assert build(seeded) == 1
    package = the_package(seeded, business_no)
    sign_in(client, "yh_archivist")  # 余杭区
    page = client.get("/workbench/archives", query_string={"business_no": business_no})
    assert page.status_code == 200 and f'data-business-no="{business_no}"' not in page.get_data(as_text=True)
    resp = client.post(f"/workbench/archives/{package.id}/consult",
                       data={"csrf_token": csrf_of(page.get_data(as_text=True)), "purpose": "查阅原始登记资料"})
    assert resp.status_code == 404
    assert audited(seeded, "archive.consult") == []


def test_a_consultation_lasts_four_hours_and_each_download_is_access_logged(
        seeded: Flask, login: Any, client: FlaskClient, submitted_transfer: dict) -> None:
    from datetime import timedelta

    from app.db import utcnow
    from app.security.models import AccessEntry

    business_no = registered(login, submitted_transfer)
    assert build(seeded) == 1
    package = the_package(seeded, business_no)
    sign_in(client, "xh_archivist")
    token = csrf_of(client.get("/workbench/archives").get_data(as_text=True))
    opened = client.post(f"/workbench/archives/{package.id}/consult", data={"csrf_token": token,
                                                                            "purpose": "核对抵押登记原始资料"})
    page = opened.headers["Location"]
    assert client.get(f"{page}/files/2").status_code == 200
    assert client.get(f"{page}/files/99").status_code == 404
    with seeded.extensions["db"].unit_of_work() as session:
        logged = session.scalars(select(AccessEntry).where(AccessEntry.action == "archive.document")).all()
        assert [(e.object_id, e.after["seq"]) for e in logged] == [(package.id, 2)]
        consultation = session.scalars(select(ArchiveConsultation)).one()
        assert timedelta(hours=3, minutes=59) < consultation.expires_at - consultation.opened_at <= timedelta(hours=4)
        consultation.expires_at = utcnow() - timedelta(seconds=1)
    expired = client.get(page)
    assert expired.status_code == 403 and "已过期" in expired.get_data(as_text=True)
    assert client.get(f"{page}/files/2").status_code == 403


def test_a_package_whose_stored_file_no_longer_opens_is_reported(seeded: Flask, login: Any,
                                                                 submitted_transfer: dict) -> None:
    business_no = registered(login, submitted_transfer)
    assert build(seeded) == 1
    package = the_package(seeded, business_no)
    storage = seeded.extensions["storage"]
    path = storage._path(package.storage_key)
    sealed = bytearray(path.read_bytes())
    sealed[len(sealed) // 2] ^= 0xFF  # one bit flipped on the disk
    path.write_bytes(bytes(sealed))
    assert run(seeded, lambda s: check_due(s, storage, ids=[package.id])).failed == 1
    assert "无法读取" in (the_package(seeded, business_no).fixity_problem or "")


@pytest.mark.parametrize("statement, refusal", [
    ("DELETE FROM archive_package", "保管期限未满"),
    ("UPDATE archive_package SET sha256 = repeat('0', 64)", "归档内容不得修改"),
    ("UPDATE archive_package SET retention = '10年', retain_until = now()", "归档内容不得修改"),
    ("UPDATE archive_file SET sha256 = repeat('0', 64)", "permission denied"),
    ("DELETE FROM archive_file", "permission denied"),
    ("DELETE FROM archive_holder", "permission denied"),
])
def test_on_postgresql_the_database_keeps_what_was_archived(seeded: Flask, db: Any, login: Any,
                                                             submitted_transfer: dict, statement: str,
                                                             refusal: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    if db.engine.dialect.name != "postgresql":
        pytest.skip("triggers and the app role's grants are PostgreSQL's; SQLite relies on the session's guard")
    registered(login, submitted_transfer)
    assert build(seeded) == 1
    with pytest.raises(DBAPIError, match=refusal), db.engine.begin() as conn:
        conn.execute(text(statement))
    with db.engine.begin() as conn:  # what may change afterwards: the fixity and export columns
        assert conn.execute(text("UPDATE archive_package SET fixity_ok = false, export_receipt = 'X'")).rowcount == 1


@pytest.mark.slow  # a real scheduler (like tests/integrations/test_scheduler.py)
def test_the_scheduler_archives_an_ended_case_and_exports_it(seeded: Flask, login: Any, simulator: Any,
                                                             submitted_transfer: dict) -> None:
    from support.waiting import wait_for

    from app import jobs

    business_no = registered(login, submitted_transfer)
    every = {name: 3600 for name in jobs.INTERVALS_S} | {"archives": 0.2, "archive_export": 0.2}
    scheduler = jobs.start_scheduler(seeded, every)
    try:
        wait_for(lambda: any(r["key"].endswith(business_no) for r in sim_received(simulator.url)),
                 "the archives job to build the package and the export job to send it", timeout_s=30)
    finally:
        scheduler.shutdown(wait=True)
    package = the_package(seeded, business_no)
    assert package.export_receipt and package.fixity_ok is True
