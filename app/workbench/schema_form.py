"""Rendering an application form's JSON Schema as plain HTML fields for window intake, grouped by its
``x-ui`` layout. Validation stays in ``app/catalog/forms.py`` (the use case validates); this only decides
which input each property gets and reads the posted values back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import MultiDict


@dataclass(frozen=True)
class Field:
    name: str
    title: str
    description: str
    widget: str  # text | textarea | select | boolean
    choices: list[tuple[str, str]]
    required: bool
    pii: bool


def _choices(prop: dict[str, Any]) -> list[tuple[str, str]]:
    if "enum" in prop:
        return [(str(v), str(v)) for v in prop["enum"]]
    return [(str(o["const"]), str(o.get("title", o["const"]))) for o in prop.get("oneOf", []) if "const" in o]


def form_groups(schema: dict[str, Any]) -> list[tuple[str, list[Field]]]:
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))

    def field(name: str) -> Field:
        prop = props[name]
        widget = "boolean" if prop.get("type") == "boolean" else "select" if _choices(prop) else \
            "textarea" if prop.get("x-widget") == "textarea" else "text"
        return Field(name, str(prop.get("title", name)), str(prop.get("description", "")), widget, _choices(prop),
                     name in required, bool(prop.get("x-pii")))

    groups = (schema.get("x-ui") or {}).get("groups") or [{"title": "申请信息", "fields": list(props)}]
    seen: set[str] = set()
    result = []
    for group in groups:
        fields = [field(n) for n in group.get("fields", []) if n in props and n not in seen]
        seen.update(f.name for f in fields)
        result.append((str(group.get("title", "")), fields))
    rest = [field(n) for n in props if n not in seen]
    if rest:
        result.append(("其他", rest))
    return result


def posted_form(schema: dict[str, Any], posted: MultiDict[str, str]) -> dict[str, Any]:
    """Non-empty posted values of the schema's properties (empty = not given / unchanged)."""
    form: dict[str, Any] = {}
    for name in schema.get("properties", {}):
        value = (posted.get(name) or "").strip()
        if value:
            form[name] = value
    return form
