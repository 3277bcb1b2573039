"""Material exemption (条例 24–25): a checklist item marked ``exemptible_by: <source>`` need not be uploaded
when that source's verification succeeded for the case (or for the item's ``exempt_party``).

Before a type's checks have run (a draft), or while a check waits for its department, such items are
*deferred*, not missing — but only for sources the type's diagram actually checks (its service operators),
so a type without a check still asks for the upload. Once a check ran and did not succeed, the item is
required again and the snapshot says why.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.models import Case
from app.cases.sharing import snapshots
from app.cases.sharing.snapshots import DEPARTMENTS
from app.catalog.definitions import BusinessTypeDef
from app.db import transaction_cache
from app.integrations.verification_models import MaterialWaiver, VerificationSnapshot

# Which service operator performs which data-sharing check.
OPERATOR_SOURCES = {"identity.verify": "identity", "marriage.verify": "marriage", "contract.verify": "contract",
                    "licence.verify": "business_licence", "tax.push_case": "tax"}


def verified_sources(definition: BusinessTypeDef) -> set[str]:
    return {OPERATOR_SOURCES[op] for op in definition.service_operators or [] if op in OPERATOR_SOURCES}


def waived_codes(session: Session, case: Case) -> set[str]:
    """The codes waived for the case."""
    return {w.material_code for w in _waivers(session, case)}


def _waivers(session: Session, case: Case) -> list[MaterialWaiver]:
    """The case's waivers, read once per transaction (a submission asked three times per pass, and again for
    its response); ``waive`` keeps the kept list current. Waivers are never deleted."""
    if case.id is None:
        return []
    known = transaction_cache(session, "waivers")
    if case.id not in known:
        known[case.id] = list(session.execute(select(MaterialWaiver).where(MaterialWaiver.case_id == case.id)
                                              .order_by(MaterialWaiver.created_at)).scalars())
    found: list[MaterialWaiver] = known[case.id]
    return found


def _checked(session: Session, case: Case) -> set[tuple[str, str | None]]:
    """Checks that got an answer (a check whose department was unavailable is still to come)."""
    rows = snapshots.answered(session, case)
    return rows | {(s, None) for s, _ in rows}


def deferred_codes(session: Session, definition: BusinessTypeDef, case: Case) -> set[str]:
    """Exemptible items whose check has not run yet for this case."""
    sources, checked = verified_sources(definition), _checked(session, case)
    if case.power_of_attorney_id:  # 司法 checks a disposing principal's notarised 委托书 at submission
        from app.cases.attorney import disposing_principal

        if disposing_principal(session, case) is not None:
            sources = sources | {"notarial"}
    deferred = set()
    for item in definition.materials:
        source, party = item.exemptible_by, item.exempt_party
        if source not in sources or (source == "identity" and not party):
            continue  # not checked by this type, or an identity item of someone who is not verified
        if (source, party) not in checked:
            deferred.add(item.code)
    return deferred


def waive(session: Session, case: Case, definition: BusinessTypeDef, *, source: str, role: str | None,
          snapshot: VerificationSnapshot, reason: str) -> list[str]:
    """Record a waiver for every item this successful check covers; returns the codes waived."""
    have = waived_codes(session, case)
    codes = []
    for item in definition.materials:
        if item.exemptible_by != source or item.code in have:
            continue
        party = item.exempt_party
        if (party and party != role) or (source == "identity" and not party):
            continue  # another party's item, or an identity item of someone not checked (an agent)
        waiver = MaterialWaiver(case_id=case.id, tenant_id=case.tenant_id, material_code=item.code,
                                source=source, snapshot_id=snapshot.id, reason=reason[:300])
        session.add(waiver)  # flushed with the step's other rows (issue 18: one INSERT per check before)
        _waivers(session, case).append(waiver)
        codes.append(item.code)
    return codes


def waived_label(source: str) -> str:
    """What a waived item says on every screen: 免提交（已由公安共享核验）, naming the department whose data
    stood in for the upload (found: shown as 必交 · 缺 in red, or by its code)."""
    return f"免提交（已由{DEPARTMENTS.get(source, '相关部门')}共享核验）"


def waivers_of(session: Session, case: Case, definition: BusinessTypeDef | None = None) -> list[dict[str, Any]]:
    """The case's waivers with the department and the label to show; ``name`` is the item's name in
    ``definition`` (its code when the item is no longer listed, or no definition is given)."""
    names = {m.code: m.name for m in definition.materials} if definition is not None else {}
    rows = sorted(_waivers(session, case), key=lambda w: (w.created_at is None, w.created_at))  # unflushed last
    return [{"code": w.material_code, "name": names.get(w.material_code, w.material_code), "source": w.source,
             "department": DEPARTMENTS.get(w.source, ""), "label": waived_label(w.source),
             "snapshot_id": w.snapshot_id, "reason": w.reason, "at": w.created_at.isoformat()} for w in rows]
