"""Verification connectors the diagrams' service tasks call (after submission, before 受理): each asks a
department, keeps a snapshot, and waives the materials the check makes unnecessary.

An identity mismatch blocks the submission (the applicant must correct the name or number); other
mismatches are recorded as 不一致 and the material stays required, for the acceptor to see and decide.
A department that cannot be reached raises ``ServiceUnavailable`` (503): the submission is not made, the
draft stays as it was, and the applicant can submit again later.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from app.cases.access import definition_of
from app.cases.context import CaseContext
from app.engine.connectors import connector
from app.errors import ValidationFailed
from app.integrations import exemptions, snapshots
from app.integrations.adapters import gongan, minzheng, shichang, zhujian
from app.integrations.snapshots import field


def _same(a: Any, b: Any) -> str:
    return "一致" if a is not None and b is not None and str(a).strip().upper() == str(b).strip().upper() else "不一致"


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


@connector("identity.verify")
def verify_identity(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """公安: every person party's name against their ID number."""
    ctx: CaseContext = context
    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    definition, results = definition_of(session, case), {}
    for party in case.parties:
        if party.kind == "org" or not party.id_number or len(party.id_number) != 18:
            continue
        answer = gongan.verify_identity(session, snapshots.context_of(case, actor_id), party.name or "",
                                        party.id_number)
        marks = answer.get("fields") or {}
        fields = [field("姓名", party.name, party.name if marks.get("name") == "一致" else None,
                        marks.get("name", "未核验"), "name"),
                  field("公民身份号码", party.id_number, party.id_number if marks.get("id_number") == "一致" else None,
                        marks.get("id_number", "未核验"), "id_number")]
        snap = snapshots.take(session, case, actor_id, source="identity", operation="identity.verify",
                              fields=fields, role=party.role, label=party.label)
        results[party.role] = snap.result
        if snap.result != "一致":
            message = f"{party.label}身份核验不一致：姓名与公民身份号码不符（公安部门核验），请核对后重新提交"
            raise ValidationFailed(message, code="identity_mismatch", field=f"{party.role}_name")
        exemptions.waive(session, case, definition, source="identity", role=party.role, snapshot=snap,
                         reason=f"公安部门身份核验一致（{party.label}），免提交身份证明")
    return {"identity": results}


@connector("marriage.verify")
def verify_marriage(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """民政: the marital status each person party declared (``<role>_marital_status``)."""
    ctx: CaseContext = context
    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    definition, results, last = definition_of(session, case), {}, None
    for party in case.parties:
        declared = case.form_public.get(f"{party.role}_marital_status")
        if party.kind == "org" or not declared or not party.id_number:
            continue
        answer = minzheng.marriage_status(session, snapshots.context_of(case, actor_id), party.id_number)
        found = answer.get("status")
        fields = [field("公民身份号码", party.id_number, party.id_number, "一致" if answer.get("found") else "未核验",
                        "id_number"),
                  field("婚姻状况", declared, found, _same(declared, found) if answer.get("found") else "未核验")]
        records = answer.get("records") or []
        if records:
            fields.append(field("婚姻登记", None, f"{records[-1].get('type')} {records[-1].get('date')} "
                                f"{records[-1].get('office')}", "一致" if found == declared else "未核验"))
        last = snapshots.take(session, case, actor_id, source="marriage", operation="marriage.verify",
                              fields=fields, role=party.role, label=party.label)
        results[party.role] = last.result
    married = [r for role, r in results.items() if case.form_public.get(f"{role}_marital_status") == "已婚"]
    if last is not None and married and all(r == "一致" for r in married):
        exemptions.waive(session, case, definition, source="marriage", role=None, snapshot=last,
                         reason="民政部门婚姻登记信息核验一致，免提交婚姻状况证明")
    return {"marriage": results}


@connector("contract.verify")
def verify_contract(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """住建: the 网签备案 contract — filed, same unit, price, seller and buyer."""
    ctx: CaseContext = context
    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    form = case.form_public
    contract_no = str(form.get("contract_no") or "")
    filed = zhujian.filed_contract(session, snapshots.context_of(case, actor_id), contract_no) if contract_no else None
    parties = {p.role: p for p in case.parties}
    if filed is None:
        fields = [field("网签合同编号", contract_no, None, "不一致")]
    else:
        fields = [field("网签合同编号", contract_no, filed["contract_no"], "一致"),
                  field("备案状态", "备案", filed.get("status"), _same("备案", filed.get("status"))),
                  field("不动产单元号", case.unit_code, filed.get("unit_code"),
                        _same(case.unit_code, filed.get("unit_code"))),
                  field("成交价格（元）", form.get("price"), filed.get("price"),
                        "一致" if _amount(form.get("price")) == _amount(filed.get("price")) else "不一致")]
        for role in ("seller", "buyer"):
            party, other = parties.get(role), filed.get(role) or {}
            if party is None:
                continue
            fields.append(field(f"{party.label}姓名", party.name, other.get("name"),
                                _same(party.name, other.get("name")), "name"))
            fields.append(field(f"{party.label}证件号码", party.id_number, other.get("id_number"),
                                _same(party.id_number, other.get("id_number")), "id_number"))
    snap = snapshots.take(session, case, actor_id, source="contract", operation="contract.verify", fields=fields)
    if snap.result == "一致":
        exemptions.waive(session, case, definition_of(session, case), source="contract", role=None, snapshot=snap,
                         reason="住建部门网签备案信息核验一致，免提交买卖合同")
    return {"contract": snap.result}


@connector("licence.verify")
def verify_licence(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """市场监管: every organisation party's business licence (credit code, name, 存续)."""
    ctx: CaseContext = context
    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    definition, results = definition_of(session, case), {}
    for party in case.parties:
        if party.kind == "person" or not party.id_number or len(party.id_number) != 18 or \
                party.id_number[:1].isdigit() and party.kind != "org":
            continue  # persons (and "either" parties identified by an ID card) are checked by 公安
        answer = shichang.business_licence(session, snapshots.context_of(case, actor_id), party.id_number,
                                           party.name or "")
        marks, licence = answer.get("fields") or {}, answer.get("licence") or {}
        fields = [field("统一社会信用代码", party.id_number, licence.get("uscc"), marks.get("uscc", "不一致")),
                  field("名称", party.name, licence.get("name"), marks.get("name", "不一致")),
                  field("登记状态", "存续", licence.get("status"), marks.get("status", "未核验"))]
        snap = snapshots.take(session, case, actor_id, source="business_licence", operation="licence.verify",
                              fields=fields, role=party.role, label=party.label)
        results[party.role] = snap.result
        if snap.result == "一致":
            exemptions.waive(session, case, definition, source="business_licence", role=party.role, snapshot=snap,
                             reason=f"市场监管部门营业执照核验一致（{party.label}），免提交营业执照")
    return {"licence": results}

