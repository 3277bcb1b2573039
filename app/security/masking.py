"""Masking of personal data for screens, logs and search results that do not need the full value.

The standard widths (first 4/last 4 for ID numbers, 3/4 for phones) are what applicants recognise from
banks and government sites. For inputs shorter than the standard length (typos, partial data) the
masks shrink so that no more than half of the characters are ever shown.
"""
from __future__ import annotations

from typing import Any

MASK = "*"


def _mask(value: str | None, head: int, tail: int, full_length: int) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) < full_length:
        budget = len(text) // 2
        head = min(head, budget // 2)
        tail = min(tail, budget - head)
    hidden = len(text) - head - tail
    return text[:head] + MASK * hidden + (text[len(text) - tail:] if tail else "")


def mask_name(value: str | None) -> str:
    """Keep the surname (first char) and, for names of three or more chars, the last char."""
    text = (value or "").strip()
    if len(text) <= 1:
        return MASK * len(text)
    if len(text) == 2:
        return text[0] + MASK
    return text[0] + MASK * (len(text) - 2) + text[-1]


def mask_id_number(value: str | None) -> str:
    return _mask(value, 4, 4, 18)


def mask_phone(value: str | None) -> str:
    return _mask(value, 3, 4, 11)


def mask_uscc(value: str | None) -> str:
    return _mask(value, 4, 4, 18)


def mask_value(field: str, spec: dict[str, Any], value: Any) -> Any:
    """A form field's value as shown masked: ``spec`` is its JSON Schema (a list of persons masks each member)."""
    if value in (None, ""):
        return value
    if isinstance(value, list):  # a list of persons (several buyers): mask each member's fields
        item = spec.get("items") or {}
        props = item.get("properties") or {}
        return [{k: mask_value(k, props.get(k, {}), v) if k in ("name", "id_number", "phone") else v
                 for k, v in m.items()} if isinstance(m, dict) else mask_value(field, item, m) for m in value]
    text = str(value)
    if spec.get("format") == "id-card" or field.endswith("id_number"):
        return mask_id_number(text)
    if "phone" in field:
        return mask_phone(text)
    return mask_name(text)
