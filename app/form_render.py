"""Layout of a JSON-Schema form for the one Jinja2 renderer (templates/forms/render.html), and reading the
posted values back.

Why in Python: ordering and grouping (``x-ui.order`` / ``x-ui.groups``), choices from ``oneOf`` or
``enum`` and the widget each field gets are decided once here, so the admin preview, the portal and the
workbench (window intake, field corrections at a stage) render a form identically from its schema and read
it back the same way. Validation stays with the use case (app/catalog/forms.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.datastructures import MultiDict


@dataclass(frozen=True)
class FieldView:
    name: str
    title: str
    description: str
    widget: str  # text | textarea | select | radio | checkbox | checkboxes | number | date | lines
    required: bool
    choices: list[tuple[Any, str]]
    pii: bool
    prefill: bool
    step: str | None = None


@dataclass(frozen=True)
class GroupView:
    title: str | None
    fields: list[FieldView]


def _choices(prop: dict[str, Any]) -> list[tuple[Any, str]]:
    if prop.get("oneOf"):
        return [(c.get("const"), c.get("title") or str(c.get("const"))) for c in prop["oneOf"] if "const" in c]
    return [(v, str(v)) for v in prop.get("enum", [])]


def field_view(name: str, prop: dict[str, Any], required: bool) -> FieldView:
    kind, widget = prop.get("type"), prop.get("x-widget")
    choices = _choices(prop)
    step = None
    if kind == "array":
        item_choices = _choices(prop.get("items", {}))
        choices, chosen = (item_choices, "checkboxes") if item_choices else ([], "lines")
    elif kind == "boolean":
        chosen = "checkbox"
    elif choices:
        chosen = "radio" if widget == "radio" else "select"
    elif widget == "textarea":
        chosen = "textarea"
    elif kind in ("number", "integer"):
        chosen, step = "number", ("1" if kind == "integer" else "any")
    elif prop.get("format") == "date":
        chosen = "date"
    else:
        chosen = "text"
    return FieldView(name=name, title=prop.get("title") or name, description=prop.get("description") or "",
                     widget=chosen, required=required, choices=choices, pii=prop.get("x-pii") is True,
                     prefill=isinstance(prop.get("x-prefill"), str), step=step)


def form_layout(schema: dict[str, Any]) -> list[GroupView]:
    """Groups of fields in display order; fields no group names come last, ungrouped."""
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    ui = schema.get("x-ui") or {}
    order = [f for f in ui.get("order", []) if f in props] + [f for f in props if f not in ui.get("order", [])]
    view = {f: field_view(f, props[f], f in required) for f in order}
    groups: list[GroupView] = []
    placed: set[str] = set()
    for group in ui.get("groups", []):
        fields = [view[f] for f in group.get("fields", []) if f in view and f not in placed]
        placed.update(f.name for f in fields)
        if fields:
            groups.append(GroupView(group.get("title"), fields))
    rest = [view[f] for f in order if f not in placed]
    if rest:
        groups.append(GroupView(None, rest))
    return groups


def posted_values(schema: dict[str, Any], posted: MultiDict[str, str],
                  only: set[str] | frozenset[str] | None = None) -> dict[str, Any]:
    """What the browser sent for the schema's fields (``only``: just these); empty inputs count as not filled,
    an unchecked checkbox that the page marks as shown counts as False."""
    values: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if only is not None and name not in only:
            continue
        if prop.get("type") == "array":
            raw = [v.strip() for v in posted.getlist(name) if v.strip()]
            if len(raw) == 1 and "\n" in raw[0]:
                raw = [line.strip() for line in raw[0].splitlines() if line.strip()]
            if raw:
                values[name] = _rows(prop.get("items") or {}, raw)
            continue
        value = (posted.get(name) or "").strip()
        if value:
            values[name] = value
        elif prop.get("type") == "boolean" and name in posted:
            values[name] = False
    return values


def _rows(item: dict[str, Any], lines: list[str]) -> list[Any]:
    """A list of objects (e.g. further buyers) typed in a textarea: one per line, the item's properties in
    order separated by spaces or commas ("王芳 330106… 1/2")."""
    if item.get("type") != "object":
        return lines
    keys = list((item.get("properties") or {}).keys())
    rows = []
    for line in lines:
        parts = [p for p in re.split(r"[\s,，、]+", line) if p]
        rows.append(dict(zip(keys, parts, strict=False)))
    return rows


def field_titles(schema: dict[str, Any]) -> dict[str, str]:
    """``{field: title}``: the words an error summary puts before each field's message."""
    return {name: prop.get("title") or name for name, prop in schema.get("properties", {}).items()}


def init_app(app: Flask) -> None:
    """``form_layout`` and ``field_titles`` for the one Jinja2 form renderer and the error summaries."""
    app.add_template_global(form_layout)
    app.add_template_global(field_titles)
