"""Sample data generated from a form's JSON Schema: what the designer's dry run pre-fills and the analyst edits.

Why generated and not typed: an analyst should see the application form she knows (labels, choices) with
plausible values already in it, never a JSON object keyed by field ids. The values satisfy the schema the
portal enforces (formats with valid check characters, patterns, lengths, ranges, enumerations), so a dry
run starts from data a real application could carry. The path checker may reuse ``sample_data`` and vary
``choice_fields`` to explore every gateway branch.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.catalog.forms import pii_fields
from app.clock import beijing_today
from app.identifiers import make_id_card, make_unit_code, make_uscc

SAMPLE_DIVISION = "330106"  # 杭州市西湖区, where the demo register lives
# Strings for the patterns the shipped forms use; any other pattern gets the first candidate it accepts.
_PATTERN_CANDIDATES = ("1/2", "13800000000", "A0001", "0001", "示例")


def _format_value(fmt: str, today: date) -> str | None:
    if fmt in ("id-card", "party-id"):
        return make_id_card(SAMPLE_DIVISION, date(1980, 1, 1), 1)
    if fmt == "unit-code":
        return make_unit_code(SAMPLE_DIVISION, 1, 1, "GB", 100, 1, 101)
    if fmt == "uscc":
        return make_uscc("91", SAMPLE_DIVISION, "MA2DEM99")
    if fmt == "date":
        return today.isoformat()
    return None


def _text(prop: dict[str, Any], name: str, today: date) -> str:
    formatted = _format_value(str(prop.get("format", "")), today)
    if formatted is not None:
        return formatted
    pattern = prop.get("pattern")
    if isinstance(pattern, str):
        for candidate in _PATTERN_CANDIDATES:
            if re.search(pattern, candidate):
                return candidate
    low, high = int(prop.get("minLength", 0)), int(prop.get("maxLength", 200))
    text = f"示例{prop.get('title') or name}"
    text = text.ljust(low, "样") if len(text) < low else text
    return text[:high]


def _number(prop: dict[str, Any], integer: bool) -> int | float:
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    value: float = 100
    if low is not None and value <= low:
        value = low + (1 if "exclusiveMinimum" in prop and "minimum" not in prop else 0)
    if high is not None and value >= high:
        value = high - (1 if "exclusiveMaximum" in prop and "maximum" not in prop else 0)
    return int(value) if integer or float(value).is_integer() else value


def choices(prop: dict[str, Any]) -> list[dict[str, Any]]:
    """The values a field may take, with their labels: ``enum`` (label = value) or ``oneOf`` consts."""
    if isinstance(prop.get("enum"), list):
        return [{"value": v, "label": str(v)} for v in prop["enum"]]
    if isinstance(prop.get("oneOf"), list):
        return [{"value": o["const"], "label": str(o.get("title") or o["const"])}
                for o in prop["oneOf"] if isinstance(o, dict) and "const" in o]
    return []


def sample_value(prop: dict[str, Any], name: str = "", today: date | None = None) -> Any:
    """One plausible value of a field schema (``default`` first, then the first choice)."""
    today = today or beijing_today()
    if "default" in prop:
        return prop["default"]
    options = choices(prop)
    if options:
        return options[0]["value"]
    kind = prop.get("type")
    if kind == "boolean":
        return False
    if kind in ("number", "integer"):
        return _number(prop, kind == "integer")
    if kind == "array":
        items = prop.get("items")
        item = items if isinstance(items, dict) else {}
        return [sample_value(item, name, today) for _ in range(int(prop.get("minItems", 0)))]
    if kind == "object":
        return sample_data(prop, today=today)
    return _text(prop, name, today)


def sample_data(schema: dict[str, Any], *, today: date | None = None, public_only: bool = False) -> dict[str, Any]:
    """A value for every field of ``schema`` that passes ``validate_form_data``; with ``public_only`` the
    fields marked ``x-pii`` are left out, as they are from a case's process data (``form_public``)."""
    secret = pii_fields(schema) if public_only else set()
    props = schema.get("properties") or {}
    return {name: sample_value(prop, name, today) for name, prop in props.items()
            if isinstance(prop, dict) and name not in secret}
