"""Refuse malformed input before any view, parser or database sees it.

Two kinds of input used to surface as 500s and fill the exception log: text that no database column can
hold (NUL bytes, which PostgreSQL refuses in ``text``; lone UTF-16 surrogates, which cannot be encoded to
UTF-8) and JSON nested thousands deep (Python's parser recurses and raises ``RecursionError``). One check
here, before every request, answers both with a 400 and a Chinese message: problem JSON for the API, the
error page for pages (the ordinary ``DomainError`` rendering).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, request

from app.errors import DomainError

MAX_JSON_DEPTH = 64  # the deepest legitimate body (a form schema with x-ui layout) is far below this
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


class BadInput(DomainError):
    """The request carries characters or structure no handler can accept; never the user's typing."""

    status = 400
    code = "bad_input"


def has_bad_characters(value: str) -> bool:
    return bool(_BAD_CHARS.search(value))


def json_depth(text: str) -> int:
    """Deepest bracket nesting of a JSON text, counted without recursion (strings skipped)."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _strings_in(obj: Any) -> Iterable[str]:
    """Every key and string value of a parsed JSON document (iteratively: depth is already bounded)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_strings(values: Iterable[str]) -> None:
    if any(has_bad_characters(v) for v in values if isinstance(v, str)):
        raise BadInput("请求中含有无效字符（空字符或不成对的代理字符），请检查后重新提交", code="bad_characters")


def _check_json_body() -> None:
    raw = request.get_data(cache=True)
    if not raw:
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("请求内容不是有效的 UTF-8 编码", code="bad_encoding") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BadInput(f"JSON 嵌套层级过深（最多 {MAX_JSON_DEPTH} 层）", code="json_too_deep")
    try:
        document = json.loads(text)
    except ValueError:
        return  # malformed JSON: the body parser answers 400 with its own message
    _check_strings(_strings_in(document))


def check_request() -> None:
    """Path values, query and form fields (names and values), upload file names and JSON bodies."""
    _check_strings((request.view_args or {}).values())
    _check_strings(request.path.split("/"))
    _check_strings(request.args.keys())
    _check_strings(v for _, v in request.args.items(multi=True))
    if request.is_json:
        _check_json_body()
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_strings(request.form.keys())
        _check_strings(v for _, v in request.form.items(multi=True))
        _check_strings(f.filename or "" for _, f in request.files.items(multi=True))


def init_input_guard(app: Flask) -> None:
    app.before_request(check_request)
