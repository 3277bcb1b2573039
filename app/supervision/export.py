"""CSV and XLSX of any list the operator queried (logs, trace, statistics): the same rows the page shows.
CSV carries a BOM so Excel opens the Chinese headers correctly; XLSX is written by openpyxl."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from app.clock import in_beijing

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def cell(value: Any) -> Any:
    """A plain cell value: times in Beijing time without zone (spreadsheets have none, and the office reads
    its own clock: found UTC times 8 hours off), structures as JSON text."""
    if isinstance(value, datetime):
        return in_beijing(value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else ""
    return "" if value is None else value


def to_csv(columns: Sequence[tuple[str, str]], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in columns])
    for row in rows:
        writer.writerow([cell(row.get(key)) for key, _ in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(columns: Sequence[tuple[str, str]], rows: Iterable[dict[str, Any]], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "Sheet1")
    sheet.append([label for _, label in columns])
    for row in rows:
        sheet.append([cell(row.get(key)) for key, _ in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(fmt: str, columns: Sequence[tuple[str, str]], rows: Iterable[dict[str, Any]], title: str) -> bytes:
    return to_xlsx(columns, rows, title) if fmt == "xlsx" else to_csv(columns, rows)
