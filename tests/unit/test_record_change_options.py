"""The record options a 变更 of one right and a 预转本 conversion use (processes/README.md ``record``):
``carries`` (what the re-recorded right keeps from the one it ends) and ``converts`` (rights on the ended
notice that become another type). Their behaviour over the register:
tests/api/test_bank_branch_change_and_advance.py."""
from __future__ import annotations

from pathlib import Path

import pytest
from support.definitions import OPERATORS, REPO, copy_definitions, edit

from app.catalog.definitions import DefinitionError, check_definitions, load_all


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_definitions(tmp_path)


def problems(root: Path) -> list[DefinitionError]:
    return check_definitions(root, operators=OPERATORS)  # type: ignore[arg-type]


def test_the_shipped_change_and_conversion_rules_load() -> None:
    types = {d.code: d for d in load_all(REPO, operators=OPERATORS)}
    change = types["mortgage_change"].record or {}
    assert change["ends"]["right_type"] == change["right_type"] == "mortgage"
    assert "accepted_at" in change["carries"] and "amount" in change["carries"]
    assert (types["first_transfer"].record or {})["converts"] == {
        "from": "advance_mortgage", "to": "mortgage", "by_detail": "advance_notice_proof_no"}
    assert (types["advance_mortgage"].record or {})["right_type"] == "advance_mortgage"
    assert types["mortgage_change"].fees == [] and types["advance_mortgage"].fees == []


def test_carries_without_ending_the_same_right_type_is_refused(root: Path) -> None:
    edit(root / "processes" / "mortgage_change" / "business.yaml", "    right_type: mortgage\n    holder_role",
         "    right_type: seizure\n    holder_role")
    [error] = problems(root)
    assert "carries" in error.message and error.element == "record.carries", (error.element, error.message)


def test_converts_needs_the_detail_linking_it_to_the_ended_right(root: Path) -> None:
    edit(root / "processes" / "first_transfer" / "business.yaml", "    by_detail: advance_notice_proof_no\n", "")
    found = problems(root)
    assert found and all(e.file.endswith("first_transfer/business.yaml") for e in found), [e.message for e in found]
    assert any("by_detail" in e.message for e in found), [e.message for e in found]


def test_converts_without_ends_is_refused(root: Path) -> None:
    path = root / "processes" / "first_transfer" / "business.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("  ends:\n"), text.index("  # 细则 78")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    found = problems(root)
    assert any("converts 须与 ends 同时使用" in e.message for e in found), [e.message for e in found]
