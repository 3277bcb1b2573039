"""Verification connectors the diagrams' service tasks call (after submission, before 受理): each asks a
department, keeps a snapshot, and waives the materials the check makes unnecessary.

An identity mismatch blocks the submission (the applicant must correct the name or number); other
mismatches are recorded as 不一致 and the material stays required, for the acceptor to see and decide.

A department that cannot be reached does not stop the submission: the check is stored as 未核验 (pending,
“部门服务暂不可用”), its exemptible materials stay deferred, and the case waits at 受理 as 等待部门核验
until the verification job (app/cases/sharing/rechecks.py) has run the check again — with ``rerun=True``, so
a late identity mismatch is recorded for the acceptor instead of refusing a submission already made.
Each check therefore works per subject (``roles``): a re-run asks only about the parties still pending.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from app.casefile.access import definition_of
from app.casefile.context import CaseContext
from app.casefile.models import Case, Party
from app.cases.attorney import check_notarial
from app.cases.sharing import exemptions, snapshots
from app.cases.sharing.snapshots import field
from app.engine.connectors import connector
from app.errors import ValidationFailed
from app.identifiers import is_id_card
from app.integrations.adapters import gongan, minzheng, shichang, zhujian
from app.integrations.client import ServiceUnavailable


def _same(a: Any, b: Any) -> str:
    return "一致" if a is not None and b is not None and str(a).strip().upper() == str(b).strip().upper() else "不一致"


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _wanted(role: str | None, roles: Iterable[str | None] | None) -> bool:
    return roles is None or role in set(roles)


def _is_org(party: Any) -> bool:
    """An organisation party: declared ``org``, or an ``either`` party identified by a credit code (any code
    that is not a valid ID number, digit-led 91… as well as letter-led N…)."""
    return party.kind == "org" or (party.kind == "either" and not is_id_card(party.id_number))


def _form_entries(case: Case) -> list[Party]:
    """The first party of each role: the one the application form names (co-owners from the register follow)."""
    seen: dict[str, Party] = {}
    for party in case.parties:
        seen.setdefault(party.role, party)
    return list(seen.values())


@connector("identity.verify")
def verify_identity(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """公安: every person party's name against their ID number."""
    return check_identity(context)


def check_identity(ctx: CaseContext, roles: Iterable[str | None] | None = None, rerun: bool = False) -> dict[str, Any]:
    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    definition, results = definition_of(session, case), {}
    for party in case.parties:
        if _is_org(party) or not party.id_number or len(party.id_number) != 18 or not _wanted(party.role, roles):
            continue
        if party.share_mode is not None and party.confirmed_at is None:
            continue  # a co-owner from the register who does not apply (≥ 2/3 of the shares did): nothing to check
        try:
            answer = gongan.verify_identity(session, snapshots.context_of(case, actor_id), party.name or "",
                                            party.id_number)
        except ServiceUnavailable:
            snapshots.take_unavailable(session, case, actor_id, source="identity", operation="identity.verify",
                                       declared=[("姓名", party.name, "name"),
                                                 ("公民身份号码", party.id_number, "id_number")],
                                       role=party.role, label=party.label)
            results[party.role] = "未核验"
            continue
        marks = answer.get("fields") or {}
        fields = [field("姓名", party.name, party.name if marks.get("name") == "一致" else None,
                        marks.get("name", "未核验"), "name"),
                  field("公民身份号码", party.id_number, party.id_number if marks.get("id_number") == "一致" else None,
                        marks.get("id_number", "未核验"), "id_number")]
        snap = snapshots.take(session, case, actor_id, source="identity", operation="identity.verify",
                              fields=fields, role=party.role, label=party.label)
        results[party.role] = snap.result
        if snap.result != "一致":
            if rerun:  # submitted already: the mismatch is the acceptor's to act on (补正 or 不予受理)
                continue
            message = f"{party.label}身份核验不一致：姓名与公民身份号码不符（公安部门核验），请核对后重新提交"
            raise ValidationFailed(message, code="identity_mismatch", field=f"{party.role}_name")
        exemptions.waive(session, case, definition, source="identity", role=party.role, snapshot=snap,
                         reason=f"公安部门身份核验一致（{party.label}），免提交身份证明")
    return {"identity": results}


@connector("marriage.verify")
def verify_marriage(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """民政: the marital status each person party declared (``<role>_marital_status``)."""
    return check_marriage(context)


def check_marriage(ctx: CaseContext, roles: Iterable[str | None] | None = None, rerun: bool = False) -> dict[str, Any]:
    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    definition, results = definition_of(session, case), {}
    for party in _form_entries(case):  # the declared status is the form entry's, not another co-owner's
        declared = case.form_public.get(f"{party.role}_marital_status")
        if _is_org(party) or not declared or not party.id_number or not _wanted(party.role, roles):
            continue
        try:
            answer = minzheng.marriage_status(session, snapshots.context_of(case, actor_id), party.id_number)
        except ServiceUnavailable:
            snapshots.take_unavailable(session, case, actor_id, source="marriage", operation="marriage.verify",
                                       declared=[("公民身份号码", party.id_number, "id_number"),
                                                 ("婚姻状况", declared, None)],
                                       role=party.role, label=party.label)
            results[party.role] = "未核验"
            continue
        found = answer.get("status")
        fields = [field("公民身份号码", party.id_number, party.id_number, "一致" if answer.get("found") else "未核验",
                        "id_number"),
                  field("婚姻状况", declared, found, _same(declared, found) if answer.get("found") else "未核验")]
        records = answer.get("records") or []
        if records:
            fields.append(field("婚姻登记", None, f"{records[-1].get('type')} {records[-1].get('date')} "
                                f"{records[-1].get('office')}", "一致" if found == declared else "未核验"))
        snap = snapshots.take(session, case, actor_id, source="marriage", operation="marriage.verify",
                              fields=fields, role=party.role, label=party.label)
        results[party.role] = snap.result
    # The waiver needs every married party's latest check, also those answered before a re-run (a pending
    # one is 未核验, so nothing is waived while a married party is still unchecked).
    latest = snapshots.latest_by_role(session, case, "marriage")
    married = [role for role in latest if case.form_public.get(f"{role}_marital_status") == "已婚"]
    if married and all(latest[role].result == "一致" for role in married):
        exemptions.waive(session, case, definition, source="marriage", role=None, snapshot=latest[married[-1]],
                         reason="民政部门婚姻登记信息核验一致，免提交婚姻状况证明")
    return {"marriage": results}


@connector("contract.verify")
def verify_contract(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """住建: the 网签备案 contract — filed, same unit, price, seller and buyer."""
    return check_contract(context)


def check_contract(ctx: CaseContext, roles: Iterable[str | None] | None = None, rerun: bool = False) -> dict[str, Any]:
    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    form = case.form_public
    contract_no = str(form.get("contract_no") or "")
    try:
        filed = zhujian.filed_contract(session, snapshots.context_of(case, actor_id), contract_no) \
            if contract_no else None
    except ServiceUnavailable:
        snapshots.take_unavailable(session, case, actor_id, source="contract", operation="contract.verify",
                                   declared=[("网签合同编号", contract_no, None)])
        return {"contract": "未核验"}
    parties = {p.role: p for p in _form_entries(case)}
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
    return check_licence(context)


def check_licence(ctx: CaseContext, roles: Iterable[str | None] | None = None, rerun: bool = False) -> dict[str, Any]:
    session, case, actor_id = ctx.session, ctx.case, ctx.actor.user_id
    definition, results = definition_of(session, case), {}
    for party in case.parties:
        if not _is_org(party) or not party.id_number or len(party.id_number) != 18:
            continue  # persons (and "either" parties identified by an ID card) are checked by 公安
        if not _wanted(party.role, roles):
            continue
        try:
            answer = shichang.business_licence(session, snapshots.context_of(case, actor_id), party.id_number,
                                               party.name or "")
        except ServiceUnavailable:
            snapshots.take_unavailable(session, case, actor_id, source="business_licence",
                                       operation="licence.verify",
                                       declared=[("统一社会信用代码", party.id_number, None),
                                                 ("名称", party.name, None)],
                                       role=party.role, label=party.label)
            results[party.role] = "未核验"
            continue
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


Check = Callable[..., dict[str, Any]]
# What the verification job re-runs for a pending check, and which interface's breaker it asks first.
RECHECKS: dict[str, tuple[Check, str]] = {
    "identity.verify": (check_identity, "gongan"),
    "marriage.verify": (check_marriage, "minzheng"),
    "contract.verify": (check_contract, "zhujian"),
    "licence.verify": (check_licence, "shichang"),
    "notarial.query": (check_notarial, "sifa"),  # a 委托书's 公证 (app/cases/attorney.py), checked at submission
}
