"""Layout of a JSON-Schema form for the shared Jinja2 renderer (templates/forms/render.html).

Why in Python: ordering and grouping (``x-ui.order`` / ``x-ui.groups``), choices from ``oneOf`` or
``enum`` and the widget each field gets are decided once here, so the admin preview, the portal and the
workbench render a form identically from its schema.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask


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
    groups, placed = [], set()
    for group in ui.get("groups", []):
        fields = [view[f] for f in group.get("fields", []) if f in view and f not in placed]
        placed.update(f.name for f in fields)
        if fields:
            groups.append(GroupView(group.get("title"), fields))
    rest = [view[f] for f in order if f not in placed]
    if rest:
        groups.append(GroupView(None, rest))
    return groups


def init_form_rendering(app: Flask) -> None:
    app.add_template_global(form_layout)
