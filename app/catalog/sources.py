"""Reading definition files (YAML, JSON) into data plus located problems.

Why separate: the loader needs, for every mistake, the line an analyst should look at. PyYAML's
``safe_load`` forgets positions, so schema errors are mapped back to lines through the composed node
tree; JSON and YAML syntax errors carry their own line.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from app.catalog.forms import check_form_schema, describe_error
from app.errors import DefinitionError


def read_yaml(path: Path, file: str, schema: dict[str, Any]) -> tuple[Any, bytes, list[DefinitionError]]:
    """Parsed content (None when unusable), raw bytes for hashing, and syntax/shape problems."""
    if not path.is_file():
        return None, b"", [DefinitionError("缺少文件", file=file)]
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, raw, [DefinitionError("文件不是 UTF-8 编码", file=file)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, raw, [DefinitionError(f"YAML 语法错误：{reason}", file=file,
                                           line=mark.line + 1 if mark else None)]
    errors = []
    for err in Draft202012Validator(schema).iter_errors(data):
        path_ = list(err.absolute_path)
        if err.validator == "required":
            errors += [yaml_error(raw, file, path_, f"缺少必填项 {k}") for k in err.validator_value
                       if isinstance(err.instance, dict) and k not in err.instance]
        elif err.validator == "additionalProperties":
            extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
            errors += [yaml_error(raw, file, [*path_, k], f"不允许的键 {k}") for k in extra]
        else:
            errors.append(yaml_error(raw, file, path_, describe_error(err, f"“{key_path(path_) or '内容'}”")))
    return (None if errors else data), raw, errors


def yaml_error(raw: bytes, file: str, path: list[Any], message: str) -> DefinitionError:
    """A problem at a key path (``fees[1].when``), located on the line where that key is written."""
    return DefinitionError(message, file=file, element=key_path(path) or None, line=yaml_line(raw, path))


def key_path(path: list[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def yaml_line(raw: bytes, path: list[Any]) -> int | None:
    """Line of the deepest node on ``path`` (PyYAML's composed tree keeps positions; safe_load does not)."""
    try:
        node = yaml.compose(raw.decode("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(step)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_form(path: Path, file: str) -> tuple[dict[str, Any] | None, bytes, list[DefinitionError]]:
    """A form's schema (None when unusable), raw bytes for hashing, and its problems."""
    if not path.is_file():
        return None, b"", [DefinitionError("表单文件不存在", file=file)]
    raw = path.read_bytes()
    try:
        schema = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, raw, [DefinitionError("文件不是 UTF-8 编码", file=file)]
    except json.JSONDecodeError as exc:
        return None, raw, [DefinitionError(f"JSON 语法错误：{exc.msg}", file=file, line=exc.lineno)]
    problems = [DefinitionError(msg, file=file, element=field) for field, msg in check_form_schema(schema)]
    return (None if problems else schema), raw, problems
