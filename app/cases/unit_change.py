"""The applicant changes the unit (不动产) of a draft after having gone further (issue 17). Checked against the
register as at the start; then what described the old unit goes and everything else stays:

- the form's fields about the unit (its ``x-ui`` group, e.g. 不动产信息) are refilled from the register
  (坐落, 用途) or emptied (原证书号: typed by the applicant, it named the old unit's certificate);
- a contract generated online named the old unit: it is removed, to be generated again;
- the parties' answers, the 询问笔录 and the uploaded materials stay (an ID card is still the same person's);
  the uploads are listed for the applicant to check, since a scan of the old unit's certificate no longer
  fits and only the applicant knows which scan shows what;
- only a draft: once accepted (补正) the case stays on the unit its number was given for;
- any signature on the old content is void (``consent.record_change``), as for every change."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.casefile.models import Case
from app.casefile.storage import Storage
from app.cases import intake, materials
from app.catalog.definitions import BusinessTypeDef
from app.errors import Conflict, ValidationFailed
from app.identity.actor import Actor
from app.registry.models import RealtyUnit
from app.registry.rules import blocking, unit_precheck
from app.vocabulary import EDITABLE_STATUSES, CaseStatus

UNIT_FIELD = "unit_code"
_FROM_REGISTER = ("location", "use")  # what the register says of a unit, as the application form names it


@dataclass(frozen=True)
class UnitChange:
    """What the change did, said to the applicant in the order it matters to him."""

    unit_code: str
    location: str
    refilled: tuple[str, ...]  # field titles filled from the register
    emptied: tuple[str, ...]  # field titles to be filled again
    contract_removed: bool
    kept_uploads: tuple[str, ...]  # material names uploaded before, kept for the applicant to check

    @property
    def changed(self) -> bool:
        return bool(self.unit_code)


NO_CHANGE = UnitChange("", "", (), (), False, ())


def unit_fields(definition: BusinessTypeDef) -> list[str]:
    """The form's fields that describe the unit: the ``x-ui`` group holding ``unit_code`` (else only the
    register's own fields)."""
    schema = definition.application_schema
    props = schema.get("properties", {})
    for group in (schema.get("x-ui") or {}).get("groups", []):
        if UNIT_FIELD in group.get("fields", []):
            return [f for f in group["fields"] if f in props]
    return [f for f in (UNIT_FIELD, *_FROM_REGISTER) if f in props]


def checked_unit(session: Session, definition: BusinessTypeDef, unit_code: str) -> RealtyUnit:
    """The unit if this business may go on it (the rules that depend on the unit alone), else every refusal
    beside ``unit_code``."""
    unit, results = unit_precheck(session, definition, unit_code.replace(" ", "").strip())
    refusals = [f"{r.message}（{r.basis}）" for r in blocking(results)]
    if unit is None or refusals:
        raise ValidationFailed(refusals[0] if refusals else "请填写不动产单元号", errors={UNIT_FIELD: refusals})
    return unit


def change_unit(session: Session, storage: Storage, actor: Actor, case: Case, definition: BusinessTypeDef,
                unit_code: str) -> UnitChange:
    """Put the draft on another unit (see the module's docstring); the same unit again changes nothing."""
    if case.status not in EDITABLE_STATUSES:
        raise Conflict("申请已提交，不能更换不动产", code="case_not_editable")
    if case.status != CaseStatus.DRAFT:  # 补正: the office accepted the case for this unit under its number
        raise Conflict("申请已受理，补正时不能更换不动产；如需办理其他不动产，请另行申请",
                       code="unit_fixed_after_acceptance")
    if not unit_code.strip():
        raise ValidationFailed("请填写不动产单元号", field=UNIT_FIELD)
    unit = checked_unit(session, definition, unit_code)
    if unit.unit_code == case.unit_code:
        return NO_CHANGE
    props, before = definition.application_schema.get("properties", {}), dict(case.form_data)
    register = {"location": unit.location, "use": unit.use}
    fields = [f for f in unit_fields(definition) if f != UNIT_FIELD]
    update: dict[str, Any] = {UNIT_FIELD: unit.unit_code}
    update |= {f: register.get(f) or None for f in fields}
    contract_code = (definition.contract or {}).get("material")
    contracts = [m for m in case.materials if contract_code and m.code == contract_code]
    for old in contracts:
        materials.remove_material(session, storage, actor, case, old.id)
    intake.update_application(session, actor, case, update)
    uploaded = {m.code for m in case.materials}
    kept = [m.name for m in definition.materials if m.code in uploaded and not m.generated]  # not the signatures
    title = {f: props[f].get("title", f) for f in fields}
    return UnitChange(unit.unit_code, unit.location or "",
                      refilled=tuple(title[f] for f in fields if register.get(f)),
                      emptied=tuple(title[f] for f in fields if not register.get(f) and before.get(f)),
                      contract_removed=bool(contracts), kept_uploads=tuple(kept))
