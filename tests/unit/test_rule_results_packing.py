"""reg_case.rule_results keeps standard passing texts out (issue 18) and reads back what was checked."""
from __future__ import annotations

from app.registry.rule_results import BASIS, pack, passed_text, unpack
from app.registry.rules import RuleResult

UNIT = "不动产单元 330106001001GB00100F00010102（杭州市文三路2号3单元102室）"


def test_standard_passes_store_code_and_severity_and_read_back_whole() -> None:
    results = [
        RuleResult("seizure", "pass", passed_text("seizure", UNIT), BASIS["seizure"], args={"unit": UNIT}),
        RuleResult("holder_identity", "pass", passed_text("holder_identity", UNIT, {"labels": "转让方"}),
                   "另一依据", args={"unit": UNIT, "labels": "转让方"}),
        RuleResult("objection", "block", f"{UNIT}存在异议登记", BASIS["objection"]),
    ]
    stored = pack(results)
    assert stored == {"unit": UNIT, "results": [
        {"code": "seizure", "severity": "pass"},
        {"code": "holder_identity", "severity": "pass", "args": {"labels": "转让方"}, "basis": "另一依据"},
        {"code": "objection", "severity": "block", "message": f"{UNIT}存在异议登记"},
    ]}
    assert unpack(stored) == [r.as_dict() for r in results]


def test_rows_written_before_the_packed_form_read_as_they_are() -> None:
    old = [{"code": "seizure", "severity": "pass", "message": f"{UNIT}未被查封", "basis": BASIS["seizure"]}]
    assert unpack(old) == old
    assert unpack([]) == [] and unpack(None) == []


def test_a_result_without_a_unit_is_stored_whole() -> None:
    results = [RuleResult("unit_exists", "block", "登记簿中没有不动产单元 X", "《不动产登记暂行条例》第八条")]
    assert unpack(pack(results)) == [r.as_dict() for r in results]
