"""Server-side validation of form data against a form's JSON Schema, with Chinese messages per field.

Why on the server: the portal renders the same schema in the browser, but the back office may only
trust what it checked itself (API clients skip the browser). Messages name the field by its Chinese
``title`` so a skin can show them next to the input without knowing the form.

Forms are flat objects (one level of properties; arrays of strings allowed), which keeps the error
map ``{field: [message, …]}`` simple for every skin.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from app.errors import ValidationFailed
from app.identifiers import (
    InvalidIdentifier,
    check_id_card,
    check_party_id,
    check_unit_code,
    check_uscc,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
PREFILL_SOURCES = frozenset({"identity.real_name", "identity.id_number", "identity.phone"})
WIDGETS = frozenset({"textarea", "select", "radio"})
IDENTIFIER_FORMATS: dict[str, Callable[[str], str]] = {
    "id-card": check_id_card, "uscc": check_uscc, "unit-code": check_unit_code, "party-id": check_party_id,
}
KNOWN_FORMATS = frozenset(IDENTIFIER_FORMATS) | {"date", "date-time", "email"}

_TYPE_NAMES = {"string": "文字", "number": "数字", "integer": "整数", "boolean": "“是”或“否”",
               "array": "列表", "object": "对象", "null": "空值"}
_TRUE = {"true", "1", "on", "yes", "是"}
_FALSE = {"false", "0", "off", "no", "否"}


def pii_fields(schema: dict[str, Any]) -> set[str]:
    """Fields marked ``x-pii``: stored encrypted and masked on screen."""
    return {k for k, p in _properties(schema).items() if p.get("x-pii") is True}


def prefill_fields(schema: dict[str, Any]) -> dict[str, str]:
    """``{field: source}`` for fields the server fills from the logged-in, verified identity."""
    return {k: p["x-prefill"] for k, p in _properties(schema).items() if isinstance(p.get("x-prefill"), str)}


def validate_form_data(schema: dict[str, Any], data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Return cleaned data or raise ``ValidationFailed`` with ``errors={field: [中文消息, …]}``.

    Cleaning mirrors what a browser form sends: strings are trimmed, empty values count as absent,
    "true"/"123" from HTML inputs are coerced to the schema type, identifiers come back normalised
    (full-width digits, lower-case x). ``partial=True`` is for drafts: ``required`` is not enforced
    and defaults are not filled in, everything else is.
    """
    if not isinstance(data, dict):
        raise ValidationFailed("表单填写有误", errors={"_form": ["表单数据应为键值对象"]})
    props = _properties(schema)
    cleaned = _clean(props, data)
    if not partial:
        for name, prop in props.items():
            if name not in cleaned and "default" in prop:
                cleaned[name] = copy.deepcopy(prop["default"])
    validator = Draft202012Validator(schema, format_checker=_format_checker())
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(cleaned):
        if partial and _only_missing(error):
            continue
        for field, message in _field_messages(error, props):
            bucket = errors.setdefault(field, [])
            if message not in bucket:
                bucket.append(message)
    if errors:
        order = list(props)
        ranked = sorted(errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        raise ValidationFailed("表单填写有误", errors=dict(ranked))
    for name, prop in props.items():
        check = IDENTIFIER_FORMATS.get(prop.get("format", ""))
        if check is not None and isinstance(cleaned.get(name), str):
            cleaned[name] = check(cleaned[name])
    return cleaned


def _only_missing(error: ValidationError) -> bool:
    """A draft may lack fields: also when the schema asks for "one of these fields" (anyOf of requireds)."""
    if error.validator == "required":
        return True
    return error.validator in ("anyOf", "oneOf") and bool(error.context) and all(
        _only_missing(sub) for sub in error.context)


def _keyword_value(error: ValidationError) -> Any:
    """The value of the failed keyword in the schema: any JSON. jsonschema types it "or Unset", which only
    errors built by hand are; every error a validator yields has it."""
    return error.validator_value


def describe_error(error: ValidationError, label: str) -> str:
    """One Chinese sentence for a jsonschema error about the value called ``label``.

    Shared with the definition loader, which describes YAML mistakes with the same sentences.
    """
    kind, expected = error.validator, _keyword_value(error)
    if kind == "required":
        return f"请填写{label}"
    if kind == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        return f"{label}应为{'或'.join(_TYPE_NAMES.get(n, n) for n in names)}"
    if kind == "enum":
        return f"{label}只能选择：{'、'.join(str(v) for v in expected)}"
    if kind == "const":
        return f"{label}只能为“{expected}”"
    if kind in ("oneOf", "anyOf"):
        titles = [o.get("title") or o.get("const") for o in expected if isinstance(o, dict) and "const" in o]
        if titles and len(titles) == len(expected):
            return f"{label}只能选择：{'、'.join(str(t) for t in titles)}"
        return f"{label}不符合要求"
    if kind == "format":
        cause = error.cause
        if isinstance(cause, InvalidIdentifier):
            return f"{label}：{cause.message}"
        if expected == "date":
            return f"{label}应为有效日期（格式：YYYY-MM-DD）"
        return f"{label}格式不正确"
    if kind == "minLength":
        return f"请填写{label}" if expected == 1 else f"{label}至少需要 {expected} 个字"
    if kind == "maxLength":
        return f"{label}不能超过 {expected} 个字"
    if kind == "pattern":
        return f"{label}格式不正确"
    if kind == "minimum":
        return f"{label}不能小于 {expected}"
    if kind == "exclusiveMinimum":
        return f"{label}必须大于 {expected}"
    if kind == "maximum":
        return f"{label}不能大于 {expected}"
    if kind == "exclusiveMaximum":
        return f"{label}必须小于 {expected}"
    if kind == "minItems":
        return f"请至少填写一项{label}" if expected == 1 else f"{label}至少需要 {expected} 项"
    if kind == "maxItems":
        return f"{label}最多 {expected} 项"
    if kind == "uniqueItems":
        return f"{label}不能有重复项"
    if kind == "additionalProperties":
        return f"{label}中有不允许的字段"
    return f"{label}填写有误"


def check_form_schema(schema: Any) -> list[tuple[str | None, str]]:
    """Problems of a form definition as ``(field or None, 中文说明)``; empty when the form is usable.

    Beyond being valid JSON Schema, a form must follow our conventions (flat object, closed to unknown
    fields, Chinese titles, known formats and annotations) or the portal could not render it.
    """
    if not isinstance(schema, dict):
        return [(None, "表单定义应为 JSON 对象")]
    problems: list[tuple[str | None, str]] = []
    if schema.get("$schema") != SCHEMA_DIALECT:
        problems.append((None, f"$schema 应为 {SCHEMA_DIALECT}"))
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "根"
        return problems + [(None, f"不是有效的 JSON Schema（位置：{where}）：{exc.message}")]
    if schema.get("type") != "object" or not isinstance(schema.get("properties"), dict):
        return problems + [(None, "表单的根应为 type: object 且含 properties")]
    if schema.get("additionalProperties") is not False:
        problems.append((None, "表单应设置 additionalProperties: false，以拒绝未定义的字段"))
    props = schema["properties"]
    for name, prop in props.items():
        if not isinstance(prop, dict) or not str(prop.get("title", "")).strip():
            problems.append((name, "字段缺少中文标题（title）"))
            continue
        if "format" in prop and prop["format"] not in KNOWN_FORMATS:
            problems.append((name, f"未知的格式 {prop['format']}（可用：{'、'.join(sorted(KNOWN_FORMATS))}）"))
        if "x-prefill" in prop and prop["x-prefill"] not in PREFILL_SOURCES:
            problems.append((name, f"x-prefill 只能为：{'、'.join(sorted(PREFILL_SOURCES))}"))
        if "x-widget" in prop and prop["x-widget"] not in WIDGETS:
            problems.append((name, f"x-widget 只能为：{'、'.join(sorted(WIDGETS))}"))
    for name in schema.get("required", []):
        if name not in props:
            problems.append((name, "required 中列出的字段未在 properties 中定义"))
    ui = schema.get("x-ui", {})
    listed = list(ui.get("order", [])) + [f for g in ui.get("groups", []) for f in g.get("fields", [])]
    for name in dict.fromkeys(listed):
        if name not in props:
            problems.append((name, "x-ui 中引用的字段未在 properties 中定义"))
    return problems


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


@cache
def _format_checker() -> FormatChecker:
    # Immutable configuration built once; the identifier checks raise InvalidIdentifier, whose Chinese
    # message jsonschema keeps as ``error.cause``.
    checker = FormatChecker()
    for name, check in IDENTIFIER_FORMATS.items():
        checker.checks(name, raises=InvalidIdentifier)(_format_check(check))
    return checker


def _format_check(check: Callable[[str], str]) -> Callable[[object], bool]:
    def run(value: object) -> bool:
        return not isinstance(value, str) or bool(check(value))
    return run


def _clean(props: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, list):
            value = [v.strip() if isinstance(v, str) else v for v in value]
            value = [v for v in value if v not in ("", None)]
        if value in ("", None, []):
            continue
        prop = props.get(name)
        cleaned[name] = _coerce(prop.get("type"), value) if isinstance(prop, dict) else value
    return cleaned


def _coerce(kind: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if kind == "boolean":
        low = value.lower()
        return True if low in _TRUE else False if low in _FALSE else value
    if kind in ("number", "integer"):
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            return value
        if not number.is_finite():
            return value
        if number == number.to_integral_value():
            return int(number)
        return float(number) if kind == "number" else value
    return value


def _field_messages(error: ValidationError, props: dict[str, Any]) -> list[tuple[str, str]]:
    path = list(error.absolute_path)
    instance: Any = error.instance  # the form's data here (typed "or Unset" for errors built by hand)
    if error.validator == "required" and not path:
        missing = [f for f in _keyword_value(error) if f not in instance]
        return [(f, describe_error(error, _title(props, f))) for f in missing]
    if error.validator == "anyOf" and not path and _only_missing(error):
        fields = [f for sub in error.context for f in _keyword_value(sub) if f not in instance]
        names = "、".join(_title(props, f) for f in dict.fromkeys(fields))
        return [(f, f"请至少填写以下一项：{names}") for f in dict.fromkeys(fields)]
    if error.validator == "additionalProperties" and not path:
        known = set(props)
        return [(f, "不允许的字段") for f in instance if f not in known]
    if not path:
        return [("_form", describe_error(error, "表单"))]
    field = str(path[0])
    label = _title(props, field)
    if len(path) > 1 and isinstance(path[1], int):
        label = f"{label}第 {path[1] + 1} 项"
    return [(field, describe_error(error, label))]


def _title(props: dict[str, Any], field: str) -> str:
    prop = props.get(field)
    return str(prop.get("title") or field) if isinstance(prop, dict) else field
