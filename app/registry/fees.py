"""不动产登记费 for one application (DOMAIN.md §1.6).

Which fees a type charges is data (business.yaml ``fees``: amount per 件, legal basis, who pays, and an
optional ``when`` over the application form), so a free type simply lists none. The tariff follows what the
register records, not what the applicant typed: when the unit is in the register book, its recorded use
replaces the form's ``use`` for the ``when`` expressions (a 非住宅 unit declared 住宅 still pays 550), and
the item's basis says so. The certificate 工本费 is the same for every type and lives here: the first
不动产权证书 is free, each additional one costs 10 yuan; there are additional ones only when co-holders ask
for one each (分别持证, the form's ``separate_certificates``), one per holder. A 不动产登记证明 has none.
Amounts are whole yuan (2559号 sets whole-yuan tariffs), so plain ints keep sums exact.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.catalog.definitions import BusinessTypeDef
from app.engine.expressions import evaluate_expression
from app.registry.models import unit_for_code
from app.right_types import TITLE_RIGHTS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.casefile.models import Case

# Form field a type's application form defines to let co-holders ask for one certificate each (分别持证).
SEPARATE_CERTIFICATES_FIELD = "separate_certificates"
USE_FIELD = "use"
CERTIFICATE_FEE_YUAN = 10
CERTIFICATE_FEE_BASIS = "发改价格规〔2016〕2559号：不动产权证书第一本免收工本费，每增加一本加收证书工本费 10 元"
# Recorded uses charged at the residential tariff: dwellings, and garages, parking spaces and storerooms
# that have a certificate of their own (a unit in the register has one). Every other use is 非住宅.
RESIDENTIAL_USES = frozenset({"住宅", "车库", "车位", "储藏室"})


def tariff_use(recorded_use: str) -> str:
    """The fee class (住宅 / 非住宅) of a use recorded in the register book."""
    return "住宅" if recorded_use.strip() in RESIDENTIAL_USES else "非住宅"


def _form_names(definition: BusinessTypeDef, form_public: dict[str, Any]) -> dict[str, Any]:
    # Every form field is a name (None when empty), as for conditional materials, so a `when` that
    # mentions an unfilled optional field compares with None instead of failing on an unknown name.
    fields = definition.application_schema.get("properties", {})
    return {**{f: None for f in fields}, **form_public}


def _holder_role(definition: BusinessTypeDef) -> str | None:
    """Who pays the 工本费: the party that becomes the right holder, like the registration fee."""
    for fee in definition.fees:
        if fee.payer_role:
            return fee.payer_role
    roles = (definition.record or {}).get("holder_roles") or []
    return str(roles[0]) if roles else None


def _extra_certificates(definition: BusinessTypeDef, names: dict[str, Any], holders: int) -> int:
    """Certificates beyond the first: one per holder when they asked for separate ones (0 if the form
    cannot ask, or the registration issues a 登记证明, which carries no 工本费)."""
    fields = definition.application_schema.get("properties", {})
    if (definition.record or {}).get("right_type") not in TITLE_RIGHTS:
        return 0
    if SEPARATE_CERTIFICATES_FIELD not in fields or names.get(SEPARATE_CERTIFICATES_FIELD) is not True:
        return 0
    return max(0, holders - 1)


def compute_fees(definition: BusinessTypeDef, form_public: dict[str, Any], *, recorded_use: str | None = None,
                 holders: int = 1) -> list[dict[str, Any]]:
    """Fee items ``{code, name, amount_yuan, basis, payer_role}`` for a submitted application.

    ``recorded_use`` is the unit's use in the register book (None when the unit is not there); ``holders``
    how many holders the new title will have (each may get a certificate). A ``when`` that cannot be
    evaluated is a definition error, not "no fee": it propagates so a wrong expression is noticed instead
    of silently waiving a statutory fee (expressions are checked when the definition is loaded).
    """
    names = _form_names(definition, form_public)
    note = ""
    if recorded_use:
        typed, names[USE_FIELD] = names.get(USE_FIELD), tariff_use(recorded_use)
        differs = f"，申请填报为“{typed}”" if typed and typed != names[USE_FIELD] else ""
        note = f"；按登记簿记载的用途“{recorded_use}”计收{differs}"
    items: list[dict[str, Any]] = []
    for fee in definition.fees:
        if fee.when and not evaluate_expression(fee.when, names):
            continue
        basis = fee.basis + (note if USE_FIELD in (fee.when or "") else "")
        items.append({"code": fee.code, "name": fee.name, "amount_yuan": int(fee.amount_yuan),
                      "basis": basis, "payer_role": fee.payer_role})
    extra = _extra_certificates(definition, names, holders)
    if extra:
        name = f"不动产权证书工本费（共有人分别持证，加收 {extra} 本）"
        items.append({"code": "certificate_production", "name": name,
                      "amount_yuan": CERTIFICATE_FEE_YUAN * extra, "basis": CERTIFICATE_FEE_BASIS,
                      "payer_role": _holder_role(definition)})
    return items


def _holder_count(definition: BusinessTypeDef, case: Case) -> int:
    """The new title's holders: the parties in the record's holder roles, each person once (several buyers
    are one party each: app/cases/co_holders.py)."""
    roles = set((definition.record or {}).get("holder_roles") or [])
    return len({p.id_number_bidx or p.id for p in case.parties if p.role in roles})


def fees_for_case(session: Session, definition: BusinessTypeDef, case: Case) -> list[dict[str, Any]]:
    """The fee items of a case, from the register's facts about its unit and the case's holders. The one
    place every step that (re)computes a case's fees calls (submission, 补正, a clerk's correction)."""
    unit = None
    if case.unit_code:
        unit = unit_for_code(session, case.unit_code, all_tenants=True)
    return compute_fees(definition, case.form_public, recorded_use=unit.use if unit is not None else None,
                        holders=_holder_count(definition, case))


def fee_total_yuan(items: list[dict[str, Any]]) -> int:
    """Sum of the items, in yuan."""
    return sum(int(item.get("amount_yuan") or 0) for item in items)
