"""The fields a condition builder offers: flows' conditions in the designer and fees' ``when`` on the type page.

Why a catalogue and not "every field of the form": a condition runs over the process data, which is the
application form without its personal data (``form_public``: ``x-pii`` fields are never in it) plus what the
user tasks' forms add (``decision`` …). An optional field left empty is absent from the process data, so a
flow condition naming it fails at run time; flows are offered only the fields every case carries (required
or with a default). Fees' ``when`` sees every application field (empty ones are None, app/registry/fees.py).
Each field comes with its Chinese label, its type and its choices (enumeration, ``oneOf`` consts, or the
entries of the dictionary named by ``x-dictionary``) so the analyst picks values instead of typing them.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.catalog import dictionaries
from app.catalog.forms import pii_fields
from app.catalog.sample_data import choices

DictionaryOptions = Callable[[str], list[dict[str, Any]]]  # dictionary kind → [{value, label}]
SCALAR_TYPES = ("string", "number", "integer", "boolean")


def field_entry(name: str, prop: dict[str, Any], group: str = "",
                dictionary_options: DictionaryOptions | None = None) -> dict[str, Any] | None:
    """One field as the builder shows it, or None for lists and objects (no builder operator fits them)."""
    kind = prop.get("type", "string")
    if kind not in SCALAR_TYPES:
        return None
    options = choices(prop)
    kind_name = prop.get("x-dictionary")
    if not options and isinstance(kind_name, str) and dictionary_options is not None:
        options = dictionary_options(kind_name)
    return {"name": name, "label": str(prop.get("title") or name), "type": kind, "format": prop.get("format"),
            "options": options, "group": group}


def application_fields(schema: dict[str, Any], *, always_present: bool,
                       dictionary_options: DictionaryOptions | None = None) -> list[dict[str, Any]]:
    """The application form's fields in the process data (no ``x-pii``); ``always_present``: only the
    fields every submitted case carries (required, or filled with their default on submission). ``optional``
    marks the others: the builder guards a 大于/小于 on them (``f != None and f > 1``)."""
    secret, required = pii_fields(schema), set(schema.get("required") or [])
    found = []
    for name, prop in (schema.get("properties") or {}).items():
        if name in secret or not isinstance(prop, dict):
            continue
        if always_present and name not in required and "default" not in prop:
            continue
        entry = field_entry(name, prop, "申请表", dictionary_options)
        if entry:
            entry["optional"] = name not in required and "default" not in prop  # None when left empty
            found.append(entry)
    return found


def task_form_fields(schema: dict[str, Any],
                     dictionary_options: DictionaryOptions | None = None) -> list[dict[str, Any]]:
    """What completing a user task with this form always adds to the process data: its required fields."""
    required = set(schema.get("required") or [])
    group = str(schema.get("title") or "办理")
    found = []
    for name, prop in (schema.get("properties") or {}).items():
        if name in required and isinstance(prop, dict):
            entry = field_entry(name, prop, group, dictionary_options)
            if entry:
                found.append(entry)
    return found


def flow_condition_vocabulary(root: Path, application_schema: dict[str, Any],
                              dictionary_options: DictionaryOptions | None = None) -> dict[str, Any]:
    """For the designer: the application fields every case carries, and per form on disk (a user task may
    name any of them) the fields it adds; the browser joins them for the tasks drawn in the diagram."""
    forms: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((root / "forms").glob("*.json")):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(schema, dict):
            forms[path.stem] = task_form_fields(schema, dictionary_options)
    return {"application": application_fields(application_schema, always_present=True,
                                              dictionary_options=dictionary_options),
            "forms": forms}


def dictionary_choices(session: Session) -> DictionaryOptions:
    """Choices of a field that names a dictionary (``"x-dictionary": "uses"``): its entries, code as value."""
    def options(kind: str) -> list[dict[str, Any]]:
        if kind not in dictionaries.KINDS:
            return []
        return [{"value": e.code, "label": e.name} for e in dictionaries.entries(session, kind, limit=500)]
    return options
