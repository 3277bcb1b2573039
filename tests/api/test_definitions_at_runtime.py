"""Definitions are data: bad or malicious files are refused with their location, and a changed diagram
becomes a new version while running cases finish on the one they started on."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from support.cases import complete_stage
from support.forms import transfer_form, upload_missing

from app.config import ROOT


@pytest.fixture
def defs_root(tmp_path: Path) -> Path:
    root = tmp_path / "defs"
    for folder in ("processes", "forms", "dictionaries"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_defs_check_passes_on_the_shipped_definitions(seeded: Any) -> None:
    result = _cli(seeded, "defs", "check")
    assert result.exit_code == 0, result.output


def test_a_diagram_that_imports_os_is_refused_with_its_location(seeded: Any, defs_root: Path) -> None:
    bpmn = defs_root / "processes" / "transfer_resale" / "process.bpmn"
    evil = "__import__('os').system('touch /tmp/pwned') or decision == &quot;approve&quot;"
    _edit(bpmn, 'decision == &quot;approve&quot;', evil)
    seeded.config["SETTINGS"].definitions_root = defs_root
    result = _cli(seeded, "defs", "check")
    assert result.exit_code == 1
    assert "process.bpmn" in result.output and "__import__" in result.output
    assert "行" in result.output  # the line number is named

    from app.catalog.service import sync_definitions
    from app.errors import DefinitionError

    with pytest.raises(DefinitionError), seeded.extensions["db"].unit_of_work() as session:
        sync_definitions(session, defs_root)
    assert not Path("/tmp/pwned").exists()


def test_a_user_task_without_a_form_is_refused_with_file_element_and_line(seeded: Any, defs_root: Path) -> None:
    bpmn = defs_root / "processes" / "transfer_resale" / "process.bpmn"
    _edit(bpmn, '<spiffworkflow:property name="formKey" value="decision_review" />', "")
    seeded.config["SETTINGS"].definitions_root = defs_root
    result = _cli(seeded, "defs", "check", str(defs_root / "processes" / "transfer_resale"))
    assert result.exit_code == 1
    assert "task_review" in result.output and "process.bpmn" in result.output


def test_a_changed_diagram_is_a_new_version_and_a_running_case_finishes_on_its_own(
        login: Any, seeded: Any, defs_root: Path, submitted_transfer: dict) -> None:
    from sqlalchemy import select

    from app.casefile.models import Case
    from app.catalog.models import ProcessVersion
    from app.catalog.service import sync_definitions

    complete_stage(login("xh_acceptor"), submitted_transfer["business_no"], "受理")
    bpmn = defs_root / "processes" / "transfer_resale" / "process.bpmn"
    _edit(bpmn, 'name="审核"', 'name="审核（复审）"')
    with seeded.extensions["db"].unit_of_work() as session:
        report = sync_definitions(session, defs_root)
    assert any("transfer_resale" in line and "v2" in line for line in report)

    seller = login("zhangsan")
    new = seller.post("/api/v1/applications", json={
        "business_type": "transfer_resale",
        "form": transfer_form(unit_code=submitted_transfer["unit_code"][:-3] + "102")})
    assert new.status_code == 201, new.get_json()
    with seeded.extensions["db"].unit_of_work() as session:
        old_case = session.get_one(Case, submitted_transfer["id"])
        new_case = session.get_one(Case, new.get_json()["id"])
        versions = {v.id: v.version_no for v in session.execute(select(ProcessVersion)).scalars()}
        assert versions[old_case.process_version_id] == 1
        assert versions[new_case.process_version_id] == 2

    reviewer = login("xh_reviewer")
    old_review = reviewer.get("/api/v1/tasks", query_string={"business_no": submitted_transfer["business_no"]})
    assert old_review.get_json()["items"][0]["title"] == "审核"  # still the v1 diagram
    for username, stage in [("xh_reviewer", "审核"), ("xh_recorder", "登簿"), ("xh_certifier", "缮证")]:
        assert complete_stage(login(username), submitted_transfer["business_no"], stage).status_code == 200

    upload_missing(seller, new.get_json()["id"])
    seller.post(f"/api/v1/applications/{new.get_json()['id']}/confirm")
    login("lisi").post(f"/api/v1/applications/{new.get_json()['id']}/confirm")
    submitted = seller.post(f"/api/v1/applications/{new.get_json()['id']}/submit").get_json()
    complete_stage(login("xh_acceptor"), submitted["business_no"], "受理")
    review = reviewer.get("/api/v1/tasks", query_string={"business_no": submitted["business_no"]}).get_json()
    assert review["items"][0]["title"] == "审核（复审）"


def test_loading_unchanged_definitions_again_creates_no_version(seeded: Any) -> None:
    from app.catalog.service import sync_definitions

    with seeded.extensions["db"].unit_of_work() as session:
        report = sync_definitions(session, ROOT)
    assert all("未变化" in line for line in report)
