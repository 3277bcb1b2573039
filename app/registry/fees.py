"""不动产登记费 for one application (DOMAIN.md §1.6).

Which fees a type charges is data (business.yaml ``fees``: amount per 件, legal basis, who pays, and an
optional ``when`` over the application form), so a free type simply lists none. The certificate 工本费 is
the same for every type and lives here: the first certificate is free, each additional one costs 10 yuan,
and there are additional certificates only when the form asks for separate certificates per holder.
Amounts are whole yuan (2559号 sets whole-yuan tariffs), so plain ints keep sums exact.
"""
from __future__ import annotations

from typing import Any

from app.engine.expressions import evaluate_expression

# Form fields a type's application form may define to ask for one certificate per holder (共有人分别持证).
SEPARATE_CERTIFICATES_FIELD = "separate_certificates"
CERTIFICATE_COUNT_FIELD = "certificate_count"
CERTIFICATE_FEE_YUAN = 10
CERTIFICATE_FEE_BASIS = "发改价格规〔2016〕2559号：不动产权证书第一本免收工本费，每增加一本加收证书工本费 10 元"


def _form_names(definition: dict[str, Any], form_public: dict[str, Any]) -> dict[str, Any]:
    # Every form field is a name (None when empty), as for conditional materials, so a `when` that
    # mentions an unfilled optional field compares with None instead of failing on an unknown name.
    fields = definition["forms"][definition["application_form"]].get("properties", {})
    return {**{f: None for f in fields}, **form_public}


def _extra_certificates(definition: dict[str, Any], names: dict[str, Any]) -> int:
    """How many certificates beyond the first the applicants asked for (0 if the form cannot ask)."""
    fields = definition["forms"][definition["application_form"]].get("properties", {})
    if SEPARATE_CERTIFICATES_FIELD not in fields or names.get(SEPARATE_CERTIFICATES_FIELD) is not True:
        return 0
    count = names.get(CERTIFICATE_COUNT_FIELD)
    if isinstance(count, bool) or not isinstance(count, int | float):
        return 0
    return max(0, int(count) - 1)


def _holder_role(definition: dict[str, Any]) -> str | None:
    """Who pays the 工本费: the party that becomes the right holder, like the registration fee."""
    for fee in definition.get("fees") or []:
        if fee.get("payer_role"):
            return str(fee["payer_role"])
    roles = (definition.get("record") or {}).get("holder_roles") or []
    return str(roles[0]) if roles else None


def compute_fees(definition: dict[str, Any], form_public: dict[str, Any]) -> list[dict[str, Any]]:
    """Fee items ``{code, name, amount_yuan, basis, payer_role}`` for a submitted application.

    A ``when`` that cannot be evaluated is a definition error, not "no fee": it propagates so a wrong
    expression is noticed instead of silently waiving a statutory fee. Expressions are checked when the
    definition is loaded and the form is complete at submission, so this does not happen in practice.
    """
    names = _form_names(definition, form_public)
    items: list[dict[str, Any]] = []
    for fee in definition.get("fees") or []:
        if fee.get("when") and not evaluate_expression(fee["when"], names):
            continue
        items.append({"code": fee["code"], "name": fee["name"], "amount_yuan": int(fee["amount_yuan"]),
                      "basis": fee["basis"], "payer_role": fee.get("payer_role")})
    extra = _extra_certificates(definition, names)
    if extra:
        items.append({"code": "certificate_production", "name": f"不动产权证书工本费（加收 {extra} 本）",
                      "amount_yuan": CERTIFICATE_FEE_YUAN * extra, "basis": CERTIFICATE_FEE_BASIS,
                      "payer_role": _holder_role(definition)})
    return items


def fee_total_yuan(items: list[dict[str, Any]]) -> int:
    """Sum of the items, in yuan."""
    return sum(int(item.get("amount_yuan") or 0) for item in items)
