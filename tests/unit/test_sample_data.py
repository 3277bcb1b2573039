"""Sample data from a form schema (the dry run's pre-filled form, reusable by the path checker): it passes the
same validation a real application passes, and leaves out what a case's process data never holds."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from app.catalog.condition_fields import application_fields, task_form_fields
from app.catalog.forms import pii_fields, validate_form_data
from app.catalog.sample_data import sample_data, sample_value

FORMS = sorted((Path(__file__).resolve().parents[2] / "forms").glob("*.json"))


@pytest.mark.parametrize("path", FORMS, ids=[p.stem for p in FORMS])
def test_the_sample_of_every_shipped_form_is_a_valid_application(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    sample = sample_data(schema, today=date(2026, 3, 2))
    assert set(sample) == set(schema["properties"])
    validate_form_data(schema, sample)  # raises ValidationFailed with the field and the reason otherwise


def test_public_sample_leaves_out_personal_data_and_keeps_defaults_and_first_choices() -> None:
    schema = json.loads((FORMS[0].parent / "transfer_resale_application.json").read_text(encoding="utf-8"))
    sample = sample_data(schema, public_only=True)
    assert not set(sample) & pii_fields(schema)
    assert "seller_name" not in sample and "buyer_id_number" not in sample
    assert sample["use"] == "住宅" and sample["share_mode"] == "单独所有"  # defaults
    assert sample["seller_marital_status"] == "未婚"  # first enumerated value
    assert sample["buyer_share"] == "1/2"  # a value its pattern accepts
    assert isinstance(sample["price"], int) and sample["price"] > 0  # exclusiveMinimum 0


def test_sample_values_respect_ranges_lengths_and_choices() -> None:
    assert sample_value({"type": "integer", "minimum": 500, "maximum": 900}) == 500
    assert sample_value({"type": "number", "exclusiveMaximum": 10}) == 9
    assert len(sample_value({"type": "string", "minLength": 12, "maxLength": 14, "title": "名"})) == 12
    assert sample_value({"type": "string", "oneOf": [{"const": "approve", "title": "予以受理"}]}) == "approve"
    assert sample_value({"type": "array", "minItems": 2, "items": {"type": "string", "enum": ["a"]}}) == ["a", "a"]
    assert sample_value({"type": "string", "format": "date"}, today=date(2026, 1, 5)) == "2026-01-05"


def test_flow_conditions_offer_only_fields_every_case_carries_with_labels_and_choices() -> None:
    schema = json.loads((FORMS[0].parent / "transfer_resale_application.json").read_text(encoding="utf-8"))
    flow = {f["name"]: f for f in application_fields(schema, always_present=True)}
    assert flow["use"] == {"name": "use", "label": "房屋用途", "type": "string", "format": None, "group": "申请表",
                           "options": [{"value": "住宅", "label": "住宅"}, {"value": "非住宅", "label": "非住宅"}],
                           "optional": False}
    assert flow["price"]["type"] == "number" and "has_mortgage" in flow  # required; boolean with a default
    assert "remarks" not in flow and "location" not in flow  # optional without default: may be absent
    assert "seller_name" not in flow and "co_buyers" not in flow  # personal data; a list
    fees = {f["name"]: f for f in application_fields(schema, always_present=False)}
    assert {"remarks", "location"} <= set(fees) and "seller_name" not in fees  # fees see empty fields as None
    assert fees["remarks"]["optional"] and not fees["price"]["optional"] and not fees["use"]["optional"]

    accept = json.loads((FORMS[0].parent / "decision_accept.json").read_text(encoding="utf-8"))
    decision = {f["name"]: f for f in task_form_fields(accept)}
    assert set(decision) == {"decision", "opinion"}
    assert decision["decision"]["options"][0] == {"value": "approve", "label": "予以受理"}
    assert decision["decision"]["group"] == "受理意见"


def test_a_field_naming_a_dictionary_offers_its_entries() -> None:
    schema = {"properties": {"purpose": {"type": "string", "title": "用途", "x-dictionary": "uses"}},
              "required": ["purpose"]}
    fields = application_fields(schema, always_present=True,
                                dictionary_options=lambda kind: [{"value": "residential", "label": f"住宅（{kind}）"}])
    assert fields[0]["options"] == [{"value": "residential", "label": "住宅（uses）"}]
