"""The condition builder's text <-> rows (admin_ui/src/condition_expr.js, run in node): what it builds is
accepted by the safe expression language and means what the rows say; builder-shaped text parses back to the
same rows; anything else (calls, parentheses, arithmetic, mixed 且/或) stays in the advanced view only."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.engine.expressions import check_expression, evaluate_expression

SOURCE = Path(__file__).resolve().parents[2] / "admin_ui" / "src" / "condition_expr.js"
FIELDS = [
    {"name": "use", "label": "房屋用途", "type": "string", "options": [{"value": "住宅", "label": "住宅"},
                                                                       {"value": "非住宅", "label": "非住宅"}]},
    {"name": "price", "label": "成交价格（元）", "type": "number", "options": []},
    {"name": "floors", "label": "层数", "type": "integer", "options": []},
    {"name": "has_mortgage", "label": "是否抵押", "type": "boolean", "options": []},
    {"name": "location", "label": "坐落", "type": "string", "options": []},
    {"name": "area", "label": "面积", "type": "number", "options": [], "optional": True},
    {"name": "signed_on", "label": "签订日期", "type": "string", "format": "date", "options": []},
    {"name": "decision", "label": "审核结论", "type": "string",
     "options": [{"value": "approve", "label": "审核通过"}, {"value": "reject", "label": "不予登记"}]},
]
ROWS = [  # (condition, data it is true for, data it is false for)
    ({"join": "and", "rows": [{"field": "decision", "op": "==", "value": "approve"}]},
     {"decision": "approve"}, {"decision": "reject"}),
    ({"join": "and", "rows": [{"field": "use", "op": "==", "value": "非住宅"},
                              {"field": "price", "op": ">=", "value": 1000000}]},
     {"use": "非住宅", "price": 1000000}, {"use": "非住宅", "price": 999999.5}),
    ({"join": "or", "rows": [{"field": "has_mortgage", "op": "==", "value": True},
                             {"field": "floors", "op": "<", "value": 3}]},
     {"has_mortgage": False, "floors": 2}, {"has_mortgage": False, "floors": 3}),
    ({"join": "and", "rows": [{"field": "decision", "op": "not in", "value": ["reject", "approve"]}]},
     {"decision": "correct"}, {"decision": "reject"}),
    ({"join": "and", "rows": [{"field": "use", "op": "in", "value": ["住宅"]},
                              {"field": "location", "op": "!=", "value": 'A "quoted" \\ path'}]},
     {"use": "住宅", "location": "x"}, {"use": "住宅", "location": 'A "quoted" \\ path'}),
    ({"join": "and", "rows": [{"field": "signed_on", "op": "<", "value": "2026-01-05"}]},
     {"signed_on": "2025-12-31"}, {"signed_on": "2026-01-05"}),
    # An optional field is None when empty (fees' `when`): its comparison is guarded, and still one row.
    ({"join": "and", "rows": [{"field": "area", "op": ">", "value": 100}]}, {"area": 120}, {"area": None}),
    ({"join": "or", "rows": [{"field": "area", "op": ">", "value": 100},
                             {"field": "use", "op": "==", "value": "非住宅"}]},
     {"area": None, "use": "非住宅"}, {"area": None, "use": "住宅"}),
]
ADVANCED = ["tax_paid()", "(use == \"住宅\" or price > 1) and decision == \"approve\"",
            "use == \"住宅\" and price > 1 or decision == \"approve\"", "price * 2 > 5", "not has_mortgage",
            "price > other_field", "use == \"a\\nb\"", "decision == \"approve\" and"]
SHIPPED = ['decision == "approve"', 'decision == "correct"', 'use == "住宅"', 'use == "非住宅"']
PROBLEMS = [  # (row, expected problem)
    ({"field": "location", "op": ">", "value": "x"}, "不能比较大小"),
    ({"field": "price", "op": "==", "value": "abc"}, "应填写数字"),
    ({"field": "floors", "op": "==", "value": 2.5}, "应填写整数"),
    ({"field": "use", "op": "==", "value": "商业"}, "从选项中选择"),
    ({"field": "signed_on", "op": "==", "value": "5 Jan"}, "应填写日期"),
    ({"field": "use", "op": "in", "value": []}, "至少选择一个值"),
    ({"field": "", "op": "==", "value": "x"}, "请选择字段"),
]
SCRIPT = """
import * as c from './condition_expr.mjs';
const input = JSON.parse(process.argv[2]);
const byName = Object.fromEntries(input.fields.map((f) => [f.name, f]));
console.log(JSON.stringify({
  built: input.rows.map((r) => c.buildCondition(r, input.fields)),
  parsed: input.texts.map((t) => c.parseCondition(t)),
  problems: input.problems.map((r) => c.rowProblem(r, byName[r.field])),
}));
"""


def run_node(tmp_path: Path, texts: list[str], rows: list[dict[str, Any]] | None = None,
             problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed to build the admin bundles and to run this test")
    shutil.copy(SOURCE, tmp_path / "condition_expr.mjs")  # no imports: node runs it as an ES module
    (tmp_path / "run.mjs").write_text(SCRIPT, encoding="utf-8")
    payload = json.dumps({"fields": FIELDS, "rows": rows or [], "texts": texts, "problems": problems or []})
    out = subprocess.run([node, str(tmp_path / "run.mjs"), payload], capture_output=True, text=True, check=True,
                         timeout=30)
    return json.loads(out.stdout)


def test_built_expressions_are_safe_mean_what_the_rows_say_and_parse_back(tmp_path: Path) -> None:
    built = run_node(tmp_path, [], [r for r, _, _ in ROWS])["built"]
    assert built[0] == 'decision == "approve"'
    assert built[1] == 'use == "非住宅" and price >= 1000000'
    assert built[2] == "has_mortgage == True or floors < 3"
    assert built[-1] == 'area != None and area > 100 or use == "非住宅"'
    for text, (_, true_for, false_for) in zip(built, ROWS, strict=True):
        assert check_expression(text) is None, text
        assert evaluate_expression(text, true_for) is True, text
        assert evaluate_expression(text, false_for) is False, text
    parsed = run_node(tmp_path, built)["parsed"]
    assert parsed == [r for r, _, _ in ROWS]  # rows → text → the same rows
    rebuilt = run_node(tmp_path, [], parsed)["built"]
    assert rebuilt == built  # and the text is stable


def test_shipped_conditions_open_in_the_builder(tmp_path: Path) -> None:
    parsed = run_node(tmp_path, SHIPPED)["parsed"]
    assert parsed[0] == {"join": "and", "rows": [{"field": "decision", "op": "==", "value": "approve"}]}
    assert parsed[2] == {"join": "and", "rows": [{"field": "use", "op": "==", "value": "住宅"}]}
    assert all(p is not None for p in parsed)
    single = run_node(tmp_path, ["floors >= -2 and decision in ['approve', 'reject']", "  "])["parsed"]
    assert single[0]["rows"] == [{"field": "floors", "op": ">=", "value": -2},
                                 {"field": "decision", "op": "in", "value": ["approve", "reject"]}]
    assert single[1] == {"join": "and", "rows": []}  # no condition: an empty builder


def test_what_the_builder_cannot_represent_stays_in_the_advanced_view(tmp_path: Path) -> None:
    assert run_node(tmp_path, ADVANCED)["parsed"] == [None] * len(ADVANCED)


def test_a_row_with_a_value_of_the_wrong_kind_is_explained(tmp_path: Path) -> None:
    found = run_node(tmp_path, [], problems=[r for r, _ in PROBLEMS])["problems"]
    for message, (_, expected) in zip(found, PROBLEMS, strict=True):
        assert message and expected in message, (message, expected)
    ok = run_node(tmp_path, [], problems=[{"field": "price", "op": ">", "value": 5},
                                          {"field": "signed_on", "op": "<", "value": "2026-01-05"}])["problems"]
    assert ok == [None, None]
