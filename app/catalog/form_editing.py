"""The form editor's use cases: a JSON-Schema form edited as a table of fields, previewed, then saved as a
new version of every business type that uses the form.

Why a table and not raw JSON: analysts think in fields (标题、必填、控件、选项); constraints they do not
see in the table (formats, patterns, lengths, conditional requirements) are kept untouched on existing
fields, so editing a label can never silently drop an identifier check.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from sqlalchemy.orm import Session

from app.catalog.config import publish_changes
from app.catalog.forms import WIDGETS, check_form_schema
from app.catalog.service import current_definitions, current_version, version_definition
from app.errors import NotFound, ValidationFailed
from app.identity.actor import Actor

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FIELD_TYPES = {"string": "文字", "number": "数字", "integer": "整数", "boolean": "是/否", "array": "列表（多行）"}


@dataclass
class FieldRow:
    """One row of the field table as the analyst submitted it."""

    name: str
    title: str = ""
    description: str = ""
    type: str = "string"
    widget: str = ""
    required: bool = False
    pii: bool = False
    choices: str = ""  # one "value=标题" per line
    order: str = ""
    delete: bool = False
    new: bool = False


def forms_in_use(session: Session) -> dict[str, list[str]]:
    """``{form name: [business type codes whose current version uses it]}``."""
    used: dict[str, list[str]] = {}
    for bt, definition in current_definitions(session):
        for name in definition.forms:
            used.setdefault(name, []).append(bt.code)
    return used


def current_form(session: Session, root: Path, name: str) -> dict[str, Any]:
    """The form as the current versions use it (what cases see), else as the file on disk."""
    for code in forms_in_use(session).get(name, []):
        version = current_version(session, code, unreleased=True)
        return copy.deepcopy(version_definition(version).forms[name])
    path = root / "forms" / f"{name}.json"
    if not FIELD_NAME.match(name) or not path.is_file():
        raise NotFound(f"未找到表单：{name}", code="form_not_found")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def rows_of(schema: dict[str, Any]) -> list[FieldRow]:
    """The field table of a schema, in display order."""
    props = schema.get("properties", {})
    order = [f for f in (schema.get("x-ui") or {}).get("order", []) if f in props]
    order += [f for f in props if f not in order]
    required = set(schema.get("required", []))
    rows = []
    for i, name in enumerate(order, start=1):
        p = props[name]
        choices = p.get("oneOf") or [{"const": v, "title": v} for v in p.get("enum", [])]
        rows.append(FieldRow(name=name, title=p.get("title", ""), description=p.get("description", ""),
                             type=p.get("type", "string"), widget=p.get("x-widget", ""), required=name in required,
                             pii=p.get("x-pii") is True, order=str(i * 10),
                             choices="\n".join(f"{c.get('const')}={c.get('title', '')}" for c in choices)))
    return rows


def apply_rows(schema: dict[str, Any], rows: list[FieldRow]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The schema with the table applied, and problems keyed by field name (``_new`` for the blank row)."""
    out = copy.deepcopy(schema)
    props: dict[str, Any] = out.setdefault("properties", {})
    errors: dict[str, list[str]] = {}
    required = [f for f in out.get("required", [])]
    ordered: list[tuple[float, int, str]] = []
    for i, row in enumerate(rows):
        key = "_new" if row.new else row.name
        if row.new and not (row.name or row.title):
            continue  # the blank row left empty
        if row.delete:
            props.pop(row.name, None)
            continue
        problems = _row_problems(row, props)
        if problems:
            errors[key] = problems
            continue
        prop = props.setdefault(row.name, {"type": row.type})
        _update_prop(prop, row)
        if row.required and row.name not in required:
            required.append(row.name)
        if not row.required and row.name in required:
            required.remove(row.name)
        ordered.append((_number(row.order, 10_000 + i), i, row.name))
    out["required"] = [f for f in required if f in props]
    if not out["required"]:
        out.pop("required")
    ui = out.setdefault("x-ui", {})
    ui["order"] = [name for _, _, name in sorted(ordered)] + [f for f in props if f not in {n for *_, n in ordered}]
    for group in ui.get("groups", []):
        group["fields"] = [f for f in group.get("fields", []) if f in props]
    ui["groups"] = [g for g in ui.get("groups", []) if g["fields"]]
    if not ui["groups"]:
        ui.pop("groups")
    for field, message in check_form_schema(out):
        errors.setdefault(field or "_", []).append(message)
    return out, errors


def _row_problems(row: FieldRow, props: dict[str, Any]) -> list[str]:
    problems = []
    if not FIELD_NAME.match(row.name):
        problems.append("字段名只能包含小写字母、数字和下划线，并以字母开头")
    elif row.new and row.name in props:
        problems.append(f"字段名 {row.name} 已存在")
    if not row.title.strip():
        problems.append("标题必填")
    if row.type not in FIELD_TYPES:
        problems.append("类型无效")
    if row.widget and row.widget not in WIDGETS:
        problems.append("控件无效")
    if row.choices.strip() and row.type != "string":
        problems.append("只有文字类型的字段可以设置选项")
    if row.order.strip() and _number(row.order, None) is None:
        problems.append("顺序应为数字")
    return problems


def _update_prop(prop: dict[str, Any], row: FieldRow) -> None:
    prop["type"] = row.type
    if row.type == "array":
        prop.setdefault("items", {"type": "string", "maxLength": 500})
    prop["title"] = row.title.strip()
    for key, value in (("description", row.description.strip()), ("x-widget", row.widget)):
        if value:
            prop[key] = value
        else:
            prop.pop(key, None)
    if row.pii:
        prop["x-pii"] = True
    else:
        prop.pop("x-pii", None)
    lines = [line.strip() for line in row.choices.splitlines() if line.strip()]
    prop.pop("enum", None)
    prop.pop("oneOf", None)
    if lines:
        pairs = [line.partition("=") for line in lines]
        prop["oneOf"] = [{"const": v.strip(), "title": (t or v).strip()} for v, _, t in pairs]


@overload
def _number(text: str, default: float) -> float: ...
@overload
def _number(text: str, default: None) -> float | None: ...
def _number(text: str, default: float | None) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


def save_form(session: Session, actor: Actor, root: Path, name: str, schema: dict[str, Any]) -> list[str]:
    """A new version of every type using the form; all or nothing (one transaction)."""
    actor.require("defs:manage")
    users = forms_in_use(session).get(name, [])
    if not users:
        raise ValidationFailed("该表单未被任何业务类型使用，无法生成新版本",
                               errors={"_": ["请先在流程或业务类型中引用该表单"]})
    return [publish_changes(session, actor, root, code, forms={name: schema}, action="definition.form.save")[1]
            for code in users]
