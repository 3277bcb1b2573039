"""Issue 20 §2: the extranet writes a signed package after 登簿 into the gate's directory; the intranet, a
separate process with its own database, imports the packages strictly in sequence with the extranet's public key
alone and proves its copy against the signed checkpoint; its spatial-review results come back as a signed file
(光盘摆渡) that the extranet accepts once. Tampered, out-of-sequence, replayed, unsigned and foreign-key files are
refused with their codes. On SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import create_engine, select, text
from support.cases import complete_stage
from support.databases import copy_database, drop, worker_database_url
from support.waiting import wait_for

from app import jobs
from app.config import ROOT
from app.federation.signing import private_key, public_key_text
from app.ferry.models import FerryPackage
from app.ferry.package import sign_export, sign_return
from app.integrations.verification_models import VerificationSnapshot
from app.registry.checkpoint_log import canonical
from app.renderer_process import child_environment
from app.security.models import AuditEntry


@dataclass
class Zones:
    extranet: Flask
    gate: Path  # the export directory, as the one-way gate delivers it to the intranet
    intranet_url: str
    intranet_env: dict[str, str]
    intranet_key: Ed25519PrivateKey
    work: Path
    office_key: bytes  # the extranet office's private key (PEM): only to forge a package the office "signed"

    def intranet(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``flask ferry …`` in a separate intranet process on its own database: no link to the extranet's."""
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ferry", *args], cwd=ROOT,
                              env=self.intranet_env, capture_output=True, text=True, timeout=120, check=False)

    def extranet_cli(self, *args: str) -> Any:
        return self.extranet.test_cli_runner().invoke(args=["ferry", *args])


@pytest.fixture
def zones(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
          tmp_path: Path) -> Iterator[Zones]:
    url = worker_database_url(base_database_url, os.environ.get("PYTEST_XDIST_WORKER", "main"), "intranet")
    drop(url)
    copy_database(database_templates["empty"], url)
    settings = seeded.config["SETTINGS"]
    settings.ferry_export_dir = tmp_path / "gate"
    with seeded.app_context():
        from app.registry.signing import configured_paths, ensure_dev_keys

        paths = configured_paths()
        ensure_dev_keys(paths)
        cert = tmp_path / "extranet-office.pem"  # all the intranet is given: the office's certificate
        shutil.copyfile(paths.cert, cert)
    intranet_secret = base64.b64encode(os.urandom(32)).decode()
    intranet_key = private_key(intranet_secret)
    settings.ferry_intranet_public_key = public_key_text(intranet_key)
    env = child_environment(settings)
    for name in ("FERRY_EXPORT_DIR", "CHECKPOINT_DIR", "CERT_SIGNING_KEY_FILE", "CERT_SIGNING_CERT_FILE",
                 "CERT_TRUST_ROOT_FILE", "FERRY_INTRANET_PUBLIC_KEY"):
        env.pop(name, None)
    env.update(DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "intranet"), STORAGE_DIR=str(tmp_path / "intranet-files"),
               FERRY_EXTRANET_CERT_FILE=str(cert), FEDERATION_SIGNING_KEY=intranet_secret,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    (tmp_path / "intranet").mkdir()
    try:
        yield Zones(seeded, tmp_path / "gate", url, env, intranet_key, tmp_path, paths.key.read_bytes())
    finally:
        drop(url)


def _ok(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    for word in words:
        assert word in result.stdout, result.stdout
    return result.stdout


def _refused(result: Any, code: str) -> None:
    output = result.stdout + result.stderr if isinstance(result, subprocess.CompletedProcess) else result.output
    status = result.returncode if isinstance(result, subprocess.CompletedProcess) else result.exit_code
    assert status == 1, output
    assert f"（{code}）" in output, output


def _record(login: Any, business_no: str) -> None:
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿")]:
        resp = complete_stage(login(username), business_no, stage)
        assert resp.status_code == 200, resp.get_json()


def _export(zones: Zones, *words: str) -> str:
    result = zones.extranet_cli("export")
    assert result.exit_code == 0, result.output
    for word in words:
        assert word in result.output, result.output
    return str(result.output)


def test_register_crosses_the_gate_one_way_and_the_copy_verifies(zones: Zones, login: Any,
                                                                submitted_transfer: dict) -> None:
    _export(zones, "已写出摆渡包 #1")  # the register as seeded, from genesis
    _record(login, submitted_transfer["business_no"])
    _export(zones, "已写出摆渡包 #2")  # the transfer's 登簿, and the entries since package 1
    _export(zones, "无新的登簿记载")  # nothing recorded since: no package (its own audit entry is no 登簿)
    names = sorted(p.name for p in zones.gate.iterdir())
    assert names == [".staging", "ferry-00000001.json", "ferry-00000002.json"]
    assert not list((zones.gate / ".staging").iterdir())
    second = json.loads((zones.gate / "ferry-00000002.json").read_bytes())
    assert [r["business_no"] for r in second["body"]["results"]] == [submitted_transfer["business_no"]]
    assert second["body"]["prev"] is not None and second["body"]["log"]["since"] is not None
    with zones.extranet.extensions["db"].unit_of_work() as session:
        assert [p.published for p in session.execute(select(FerryPackage)).scalars()] == [True, True]

    # out of sequence: package 2 alone into the empty copy
    _refused(zones.intranet("import", str(zones.gate / "ferry-00000002.json")), "package_gap")
    # tampered: one entry of package 1 changed (the signature no longer holds)
    forged_dir = zones.work / "forged"
    forged_dir.mkdir()
    forged = json.loads((zones.gate / "ferry-00000001.json").read_bytes())
    forged["body"]["log"]["entries"][0]["business_no"] = "X" + forged["body"]["log"]["entries"][0]["business_no"][1:]
    (forged_dir / "ferry-00000001.json").write_bytes(canonical(forged))
    _refused(zones.intranet("import", str(forged_dir)), "package_tampered")
    assert zones.intranet("verify").returncode == 1  # nothing imported yet

    _ok(zones.intranet("import", str(zones.gate / "ferry-00000001.json")), "已导入摆渡包 #1")
    # reordered: a package 2 signed by the office itself but not continuing package 1 (another prev digest)
    skipping = json.loads((zones.gate / "ferry-00000002.json").read_bytes())
    skipping["body"]["prev"] = "0" * 64
    (forged_dir / "ferry-00000002.json").write_bytes(canonical(sign_export(skipping["body"], zones.office_key)))
    _refused(zones.intranet("import", str(forged_dir / "ferry-00000002.json")), "package_out_of_order")
    out = _ok(zones.intranet("import", str(zones.gate)), "已导入摆渡包 #2")  # package 1 left by the gate: skipped
    assert "#1" not in out
    _ok(zones.intranet("verify"), "内网副本与检查点", "一致")
    _ok(zones.intranet("import", str(zones.gate)), "没有新的摆渡包")  # the gate left them: same bytes, skipped
    _refused(zones.intranet("import", str(zones.gate / "ferry-00000001.json")), "package_replayed")

    # the copy changed in the intranet database no longer matches what the signed checkpoint and the entries say
    engine = create_engine(zones.intranet_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ferry_copy_right SET holders = :h WHERE right_id = "
                          "(SELECT MIN(right_id) FROM ferry_copy_right WHERE current = :t)"),
                     {"h": json.dumps(["someone-else"]), "t": True})
    engine.dispose()
    result = zones.intranet("verify")
    assert result.returncode == 1 and "副本的现势权利与记载重放的结果不符" in result.stderr, result.stderr


def test_the_spatial_review_comes_back_once_by_a_signed_file(zones: Zones, login: Any, page_login: Any,
                                                             submitted_transfer: dict) -> None:
    business_no, unit = submitted_transfer["business_no"], submitted_transfer["unit_code"]
    _record(login, business_no)
    _export(zones, "已写出摆渡包 #1")
    _ok(zones.intranet("import", str(zones.gate)), "已导入摆渡包 #1")
    _ok(zones.intranet("review", business_no, "--unit", unit, "--result", "不通过", "--remarks", "界址与宗地图不符",
                       "--reviewer", "内网审核员"), "待回传")
    returns = zones.work / "disc"
    _ok(zones.intranet("return-export", str(returns)), "已写出回传文件 #1")
    _ok(zones.intranet("return-export", str(returns)), "没有待回传的审核结果")
    disc = returns / "return-00000001.json"
    document = json.loads(disc.read_bytes())

    def variant(name: str, changed: dict[str, Any]) -> str:
        path = zones.work / name
        path.write_bytes(canonical(changed))
        return str(path)

    unsigned = {k: v for k, v in document.items() if k != "signature"}
    _refused(zones.extranet_cli("return-import", variant("unsigned.json", unsigned)), "return_unsigned")
    tampered = json.loads(json.dumps(document))
    tampered["body"]["results"][0]["passed"] = True
    _refused(zones.extranet_cli("return-import", variant("tampered.json", tampered)), "return_signature_invalid")
    foreign = sign_return(document["body"], Ed25519PrivateKey.generate())
    _refused(zones.extranet_cli("return-import", variant("foreign.json", foreign)), "return_signature_invalid")

    result = zones.extranet_cli("return-import", str(disc))
    assert result.exit_code == 0 and "已导入回传文件 #1：1 条审核结果" in result.output, result.output
    _refused(zones.extranet_cli("return-import", str(disc)), "return_replayed")
    again = sign_return({**document["body"], "nonce": document["body"]["nonce"]}, zones.intranet_key)
    _refused(zones.extranet_cli("return-import", variant("again.json", again)), "return_replayed")

    with zones.extranet.extensions["db"].unit_of_work() as session:
        snap = session.execute(select(VerificationSnapshot).where(VerificationSnapshot.source == "spatial_review")
                               .execution_options(all_tenants=True)).scalar_one()
        assert (snap.business_no, snap.result, snap.subject_label) == (business_no, "不一致", unit)
        assert {f["label"]: f["found"] for f in snap.fields}["审核意见"] == "界址与宗地图不符"
        actions = list(session.execute(select(AuditEntry.action).where(AuditEntry.action.like("ferry.%"))).scalars())
        assert actions.count("ferry.return_imported") == 1 and "ferry.package_exported" in actions
    page = page_login("xh_acceptor").get(f"/workbench/cases/{submitted_transfer['id']}").get_data(as_text=True)
    assert "内网空间审核" in page and "界址与宗地图不符" in page and "不一致" in page

    # the operators' upload page: the same checks; the next disc is accepted, the first one refused again
    ops = page_login("ops")
    with disc.open("rb") as upload:
        replay = ops.client.post("/admin/ferry/returns", data={"file": (upload, disc.name), "csrf_token": ops.csrf},
                                 content_type="multipart/form-data")
    assert replay.status_code == 422 and "拒绝重放" in replay.get_data(as_text=True)
    assert "return_replayed" not in replay.get_data(as_text=True)  # words on the page, not codes
    _ok(zones.intranet("review", business_no, "--unit", unit, "--result", "通过", "--reviewer", "内网审核员"))
    _ok(zones.intranet("return-export", str(returns)), "已写出回传文件 #2")
    second = returns / "return-00000002.json"
    with second.open("rb") as upload:
        accepted = ops.client.post("/admin/ferry/returns", data={"file": (upload, second.name),
                                                                 "csrf_token": ops.csrf},
                                   content_type="multipart/form-data")
    assert accepted.status_code == 302, accepted.get_data(as_text=True)
    listing = ops.get("/admin/ferry/returns").get_data(as_text=True)
    assert "已导入回传文件：1 条空间审核结果已附入案件" in listing and "#2" in listing and "#1" in listing
    with zones.extranet.extensions["db"].unit_of_work() as session:
        results = [s.result for s in session.execute(
            select(VerificationSnapshot).where(VerificationSnapshot.source == "spatial_review")
            .order_by(VerificationSnapshot.checked_at).execution_options(all_tenants=True)).scalars()]
    assert results == ["不一致", "一致"]


def test_a_package_committed_but_not_yet_linked_is_published_once_and_never_rewritten(db: Any,
                                                                                      tmp_path: Path) -> None:
    """The run that died between its commit and the link: the next run links the staged file; a different file
    already under the package's name is never overwritten."""
    from app.errors import Conflict
    from app.ferry.export import STAGING, publish_pending
    from app.ferry.package import sha256, write_new

    gate = tmp_path / "gate"
    data = b'{"format":"bdcdj-ferry/1"}'
    write_new(gate / STAGING / "ferry-00000001.json", data)
    with db.unit_of_work() as session:
        session.add(FerryPackage(seq=1, checkpoint_seq=1, file_name="ferry-00000001.json", sha256=sha256(data),
                                 entries=0, business_nos=[], published=False))
    assert publish_pending(db.session_factory, gate) == 1
    assert (gate / "ferry-00000001.json").read_bytes() == data and not list((gate / STAGING).iterdir())
    assert publish_pending(db.session_factory, gate) == 0

    write_new(gate / STAGING / "ferry-00000002.json", data + b" ")
    (gate / "ferry-00000002.json").write_bytes(b"something else")
    with db.unit_of_work() as session:
        session.add(FerryPackage(seq=2, checkpoint_seq=2, file_name="ferry-00000002.json",
                                 sha256=sha256(data + b" "), entries=0, business_nos=[], published=False))
    with pytest.raises(Conflict) as refused:
        publish_pending(db.session_factory, gate)
    assert refused.value.code == "ferry_package_exists"
    assert (gate / "ferry-00000002.json").read_bytes() == b"something else"
    with pytest.raises(FileExistsError):
        write_new(gate / "ferry-00000001.json", b"again")


def test_the_scheduler_writes_a_package_after_each_登簿_without_being_asked(zones: Zones, login: Any,
                                                                          submitted_transfer: dict) -> None:
    every = {name: 3600 for name in jobs.INTERVALS_S} | {"ferry_export": 0.2}
    scheduler = jobs.start_scheduler(zones.extranet, every)
    try:
        wait_for(lambda: (zones.gate / "ferry-00000001.json").exists(), "the register as seeded to be exported",
                 timeout_s=30)
        _record(login, submitted_transfer["business_no"])
        wait_for(lambda: (zones.gate / "ferry-00000002.json").exists(), "the 登簿 to be exported", timeout_s=30)
    finally:
        scheduler.shutdown(wait=True)
    second = json.loads((zones.gate / "ferry-00000002.json").read_bytes())
    assert [r["business_no"] for r in second["body"]["results"]] == [submitted_transfer["business_no"]]
    _ok(zones.intranet("import", str(zones.gate)), "已导入摆渡包 #1", "已导入摆渡包 #2")
    _ok(zones.intranet("verify"), "一致")
