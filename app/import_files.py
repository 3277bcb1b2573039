"""Reading register-import files (存量登记数据) into plain unit records for ``app.registry.importer``.

Two formats, both UTF-8:

* JSON Lines (``.jsonl``/``.ndjson``/``.json``): one unit per line, rights and holders nested.
* CSV (``.csv``): one row per right holder, header row first; rows are grouped into units by ``unit_code``
  and into rights by ``unit_code`` + ``business_no``. A row with empty ``right_type`` and ``business_no``
  describes a unit without rights.

Every record and every nested right/holder remembers the file line it came from (``_line``), so the
validator can point at the exact row. Reading never touches the database.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

UNIT_FIELDS = ("unit_code", "tenant", "location", "use", "area_m2", "right_nature", "land_term_end", "land_area_m2",
               "parcel_outline", "building_outline")
RIGHT_FIELDS = ("right_type", "business_no", "cert_no", "amount_yuan", "registered_at", "details")
HOLDER_FIELDS = ("holder_name", "holder_id_type", "holder_id_number", "share", "share_mode")
CSV_COLUMNS = UNIT_FIELDS + RIGHT_FIELDS + HOLDER_FIELDS
REQUIRED_CSV_COLUMNS = ("unit_code", "tenant", "location", "use", "area_m2", "right_type", "business_no")


@dataclass(frozen=True)
class ImportProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.message}" if self.line else self.message


def file_format(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    return None


def read_file(path: Path, fmt: str | None = None) -> tuple[list[dict[str, Any]], list[ImportProblem]]:
    fmt = fmt or file_format(path)
    if fmt not in ("jsonl", "csv"):
        return [], [ImportProblem(0, f"无法识别的文件格式 {path.suffix or '（无扩展名）'}：请使用 .jsonl 或 .csv")]
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [ImportProblem(0, f"文件不是 UTF-8 编码（第 {exc.start + 1} 个字节无法解码），请另存为 UTF-8")]
    return parse_jsonl(text) if fmt == "jsonl" else parse_csv(text)


def parse_jsonl(text: str, item: str = "一个不动产单元") -> tuple[list[dict[str, Any]], list[ImportProblem]]:
    """One JSON object per line (``item`` names what a line holds in messages), each with its ``_line``;
    every bad line reported by number. Also read by the user sync (app/identity/sync.py)."""
    records: list[dict[str, Any]] = []
    problems: list[ImportProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(ImportProblem(number, f"不是有效的 JSON（第 {exc.colno} 列：{exc.msg}）"))
            continue
        if not isinstance(record, dict):
            problems.append(ImportProblem(number, f"每行应为一个 JSON 对象（{item}）"))
            continue
        record["_line"] = number
        records.append(record)
    if not records and not problems:
        problems.append(ImportProblem(0, f"文件中没有任何记录（应为每行{item}）"))
    return records, problems


def _cell(row: dict[str, str | None], name: str) -> str | None:
    value = (row.get(name) or "").strip()
    return value or None


def _details(raw: str | None, line: int, problems: list[ImportProblem]) -> Any:
    if raw is None:
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        problems.append(ImportProblem(line, "details 列应为 JSON 对象，如 {\"court_doc\": \"(2024)浙0106执1号\"}"))
        return {}


def _mismatch(existing: dict[str, Any], row: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    return [f for f in fields if existing.get(f) != row.get(f)]


def parse_csv(text: str) -> tuple[list[dict[str, Any]], list[ImportProblem]]:
    problems: list[ImportProblem] = []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in header]
    if missing:
        return [], [ImportProblem(1, f"表头缺少列：{'、'.join(missing)}")]
    unknown = [c for c in header if c and c not in CSV_COLUMNS]
    if unknown:
        problems.append(ImportProblem(1, f"表头有无法识别的列：{'、'.join(unknown)}"))
    units: dict[str, dict[str, Any]] = {}
    rights: dict[tuple[str, str], dict[str, Any]] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(ImportProblem(line, "列数多于表头"))
        cells = {name: _cell(row, name) for name in CSV_COLUMNS}
        if not any(cells.values()):
            continue
        code = cells["unit_code"] or f"(第{line}行无单元代码)"
        unit_part = {f: cells[f] for f in UNIT_FIELDS}
        unit = units.get(code)
        if unit is None:
            unit = units[code] = {**unit_part, "rights": [], "_line": line}
        elif differ := _mismatch(unit, unit_part, UNIT_FIELDS):
            problems.append(ImportProblem(line, f"同一单元在第 {unit['_line']} 行的 {'、'.join(differ)} 与本行不一致"))
        if cells["right_type"] is None and cells["business_no"] is None:
            if any(cells[f] for f in HOLDER_FIELDS):
                problems.append(ImportProblem(line, "有权利人却没有 right_type 和 business_no"))
            continue
        right_part = {"type": cells["right_type"], "business_no": cells["business_no"], "cert_no": cells["cert_no"],
                      "amount_yuan": cells["amount_yuan"], "registered_at": cells["registered_at"],
                      "details": _details(cells["details"], line, problems)}
        key = (code, cells["business_no"] or f"(第{line}行)")
        right = rights.get(key)
        if right is None:
            right = rights[key] = {**right_part, "holders": [], "_line": line}
            unit["rights"].append(right)
        elif differ := _mismatch(right, right_part, tuple(right_part)):
            problems.append(ImportProblem(line, f"同一权利（业务号 {key[1]}）在第 {right['_line']} 行的 "
                                                f"{'、'.join(differ)} 与本行不一致"))
        right["holders"].append({"name": cells["holder_name"], "id_type": cells["holder_id_type"],
                                 "id_number": cells["holder_id_number"], "share": cells["share"],
                                 "share_mode": cells["share_mode"], "_line": line})
    if not units and not problems:
        problems.append(ImportProblem(0, "文件中没有任何不动产单元"))
    return list(units.values()), problems


class ImportReport(Protocol):
    """What an all-or-nothing import reports (the register import, the user directory sync)."""

    @property
    def ok(self) -> bool: ...

    @property
    def problems(self) -> list[Any]: ...

    def summary(self) -> str: ...


def echo_report(report: ImportReport, *, failed: str, done: str) -> None:
    """Print an import's outcome for a `flask` command: every problem, then ``failed`` (exit 1, nothing written)
    or ``done`` with the summary."""
    import sys

    import click

    for problem in report.problems:
        click.echo(f"错误：{problem}", err=True)
    if not report.ok:
        click.echo(f"{failed}：{len(report.problems)} 处错误，未写入任何数据", err=True)
        sys.exit(1)
    click.echo(done + report.summary())
