"""How a case keeps its last registration-rule results (``reg_case.rule_results``) and reads them back.

A passing rule says the same thing on every case but for the unit (and the applying parties' labels), and
most results pass: stored whole, six passing results of a 二手房转移 were 1.7 KB, each repeating the unit's label
and the rule's legal basis (issue 18: stored bytes per case). So the standard passing text of each rule is
defined here (the rules in app/registry/rules.py make their passing results from it) and a case stores:

    {"unit": "<the unit's label when checked>",
     "results": [{"code": ..., "severity": ...,
                  "args": {...}       # the standard text's other values (labels …), when it has any
                  "message": "...",   # only when the text is not a standard passing text
                  "basis": "..."}]}   # only when it is not the rule's usual basis

Reading gives back exactly the dictionaries that were checked (code, severity, message, basis). Rows written
before this format (a list of such dictionaries) are read as they are.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

# The usual legal basis of each rule (a rule may give another for a special case: it is then stored).
BASIS: dict[str, str] = {
    "seizure": "《不动产登记暂行条例实施细则》第九十条至第九十二条；法发〔2004〕5号",
    "first_registration": "《不动产登记暂行条例实施细则》第二十四条、第六十六条",
    "holder_identity": "《不动产登记暂行条例》第十四条；《不动产登记暂行条例实施细则》第十条；《民法典》第三百零一条",
    "not_yet_registered": "《不动产登记暂行条例实施细则》第二十四条、第三十五条",
    "queued_seizure": "《不动产登记暂行条例实施细则》第九十一条",
    "correction_limits": "《不动产登记暂行条例实施细则》第七十九条至第八十一条",
    "duplicate_objection": "《不动产登记暂行条例实施细则》第八十三条",
    "advance_notice": "《民法典》第二百二十一条；《不动产登记暂行条例实施细则》第八十五条",
    "objection": "《不动产登记暂行条例实施细则》第八十三条、第八十四条；《民法典》第二百二十条",
    "mortgage_on_transfer": "《民法典》第四百零六条；《自然资源部关于做好不动产抵押权登记工作的通知》（2021年）",
    "mortgageable": "《民法典》第三百九十九条",
    "holds_ended_right": "《不动产登记暂行条例》第十四条；《不动产登记暂行条例实施细则》第七十条",
    "holds_changed_right": "《不动产登记暂行条例》第十四条；《不动产登记暂行条例实施细则》第六十八条",
    "holds_advance_notice": "《不动产登记暂行条例实施细则》第八十五条、第八十六条（预购商品房抵押预告登记）",
}

# The standard passing text of each rule; ``{unit}`` is the unit's label (RuleContext.unit_label).
PASSED: dict[str, str] = {
    "seizure": "{unit}未被查封",
    "first_registration": "{unit}已办理首次登记",
    "holder_identity": "{labels}与{unit}登记簿记载的权利人一致",
    "not_yet_registered": "{unit}尚未办理房屋所有权首次登记",
    "queued_seizure": "{unit}无在先查封，本次查封登簿即生效",
    "correction_limits": "{unit}所涉登记之后无处分、预告或查封登记",
    "duplicate_objection": "申请人在{unit}无有效或已失效的同一异议登记",
    "advance_notice": "{unit}无以第三人为权利人的预告登记",
    "objection": "{unit}无异议登记",
    "mortgage_on_transfer": "{unit}未设定抵押",
    "mortgageable": "{unit}不属于依法不得抵押的财产",
    "holds_ended_right": "{labels}为{unit}拟注销{name}的权利人",
    "holds_changed_right": "{labels}为{unit}拟变更{name}的权利人",
    "holds_advance_notice": "{labels}为{unit}现势预售商品房买卖预告登记的权利人",
}


class _Result(Protocol):  # app.registry.rules.RuleResult
    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def basis(self) -> str: ...
    @property
    def args(self) -> dict[str, str] | None: ...


def passed_text(code: str, unit: str, args: dict[str, str] | None = None) -> str:
    return PASSED[code].format(unit=unit, **(args or {}))


def pack(results: Sequence[_Result]) -> dict[str, Any] | list[Any]:
    """The stored form of ``results`` (an empty list when no rule applied)."""
    if not results:
        return []
    unit = next((r.args["unit"] for r in results if r.args and "unit" in r.args), None)
    stored: list[dict[str, Any]] = []
    for r in results:
        item: dict[str, Any] = {"code": r.code, "severity": r.severity}
        args = {k: v for k, v in (r.args or {}).items() if k != "unit"}
        standard = (r.args is not None and unit is not None and r.code in PASSED
                    and r.args.get("unit") == unit and passed_text(r.code, unit, args) == r.message)
        if standard:
            if args:
                item["args"] = args
        else:
            item["message"] = r.message
        if r.basis != BASIS.get(r.code):
            item["basis"] = r.basis
        stored.append(item)
    return {"unit": unit, "results": stored} if unit is not None else stored


def unpack(stored: dict[str, Any] | list[Any] | None) -> list[dict[str, Any]]:
    """The results as checked: [{code, severity, message, basis}], from either stored form."""
    if not stored:
        return []
    if isinstance(stored, list):  # written before the packed form, or no unit to share
        return [{"code": r["code"], "severity": r["severity"], "message": r["message"],
                 "basis": r.get("basis", BASIS.get(r["code"], ""))} for r in stored]
    unit = stored.get("unit") or ""
    return [{"code": r["code"], "severity": r["severity"],
             "message": r["message"] if "message" in r else passed_text(r["code"], unit, r.get("args")),
             "basis": r.get("basis", BASIS.get(r["code"], ""))} for r in stored.get("results", [])]
