"""The typed definition at run time: what a process version stores (JSON) rebuilds the very ``BusinessTypeDef``
the loader made from disk (minus the diagram's bytes, stored apart), and a version stored by older code — keys
it did not know yet missing, keys since dropped still there — loads with the dataclass defaults."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from support.definitions import OPERATORS, REPO

import app.cases.sharing.tax  # noqa: F401  (registers tax_paid(), which transfer_resale's gateway reads)
from app.catalog.definitions import BusinessTypeDef, FeeItem, MaterialItem, PartyRole, UserTaskDef, load_all
from app.catalog.stored import definition_dict, definition_from_dict

SHIPPED = {d.code: d for d in load_all(REPO, operators=OPERATORS)}


def stored(d: BusinessTypeDef) -> dict[str, Any]:
    """What ``ProcessVersion.definition`` holds after a trip through the JSON column."""
    return json.loads(json.dumps(definition_dict(d), ensure_ascii=False))


def test_every_shipped_type_is_under_test() -> None:
    assert set(SHIPPED) == {p.name for p in (REPO / "processes").iterdir() if (p / "business.yaml").is_file()}


@pytest.mark.parametrize("code", sorted(SHIPPED))
def test_a_stored_definition_rebuilds_the_loaded_one(code: str) -> None:
    original = SHIPPED[code]
    rebuilt = definition_from_dict(stored(original))
    assert rebuilt == dataclasses.replace(original, bpmn=b"")
    assert all(isinstance(m, MaterialItem) for m in rebuilt.materials)
    assert all(isinstance(p, PartyRole) for p in rebuilt.parties)
    assert all(isinstance(f, FeeItem) for f in rebuilt.fees)
    assert all(isinstance(t, UserTaskDef) for t in rebuilt.user_tasks)
    assert definition_dict(rebuilt) == definition_dict(original)  # and it stores the same JSON again


def test_a_version_stored_by_older_code_takes_the_defaults() -> None:
    data = stored(SHIPPED["transfer_resale"])
    for key in ("record", "confirm_roles", "co_applicants_edit", "service_operators", "inquiry", "contract",
                "stage_permissions", "reports"):
        del data[key]
    for item in data["materials"]:
        del item["exempt_party"]
    for party in data["parties"]:
        for key in ("multiple", "from_register", "members_field", "share_field"):
            del party[key]
    data["retired_key"] = "a key this code no longer knows"
    data["materials"][0]["retired_key"] = 1
    old = definition_from_dict(data)
    assert (old.record, old.confirm_roles, old.co_applicants_edit, old.service_operators) == (None, None, False, None)
    assert (old.inquiry, old.contract, old.stage_permissions, old.reports) == (None, None, None, None)
    assert {m.exempt_party for m in old.materials} == {None}
    assert {(p.multiple, p.from_register, p.members_field, p.share_field) for p in old.parties} == {
        (False, None, None, None)}
    assert [m.code for m in old.materials] == [m.code for m in SHIPPED["transfer_resale"].materials]


def test_a_definition_missing_a_required_key_is_refused() -> None:
    data = stored(SHIPPED["mortgage_first"])
    del data["materials"][0]["code"]
    with pytest.raises(TypeError):
        definition_from_dict(data)
