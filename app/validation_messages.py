"""Marshmallow's English messages → Chinese, flattened to ``{field: [messages]}``."""
from __future__ import annotations

from typing import Any

_MESSAGES = {
    "Missing data for required field.": "必填项",
    "Field may not be null.": "不能为空",
    "Not a valid string.": "应为文本",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid boolean.": "应为是/否",
    "Unknown field.": "不允许的字段",
    "Invalid input type.": "输入类型有误",
    "Not a valid mapping type.": "应为对象",
    "Not a valid list.": "应为列表",
    "Shorter than minimum length 1.": "不能为空",
}


def _translate(message: str) -> str:
    if message in _MESSAGES:
        return _MESSAGES[message]
    if message.startswith("Must be one of"):
        return "取值不在允许范围内：" + message.split(":", 1)[-1].strip().rstrip(".")
    if message.startswith("Length must be"):
        return "长度不符合要求"
    return message


def flatten_marshmallow(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """flask-smorest nests by location (json/query/files/form); fields are what users need."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "form", "files", "headers", "path") and not prefix:
                out.update(flatten_marshmallow(value, ""))
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
                out.update(flatten_marshmallow(value, name))
    elif isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_"] = [_translate(m) for m in messages]
        else:
            for i, m in enumerate(messages):
                out.update(flatten_marshmallow(m, f"{prefix}[{i}]"))
    else:
        out[prefix or "_"] = [_translate(str(messages))]
    return out
