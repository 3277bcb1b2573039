"""Importing existing register data (存量数据) into the register book.

All or nothing per file: every record is validated and compared with the book first; only when no record
has a problem are units, current rights and holders written, each right with one initial entry through
``append_entry`` (kind ``initial_<type>``). The caller owns the transaction (CLI: one unit of work).

Idempotent: a unit already in the book whose imported content (unit fields and the rights created by its
``initial_*`` entries) equals the record is skipped, even if later registrations have changed it since; a
unit present with different content is a problem for that line, never silently overwritten. The survey
geometry (共有宗地面积 and the outline the certificate's 附图 draws) is the one exception: a unit that has none
in the book gets the record's, so geometry surveyed later can be loaded into a book imported without it
(counted and audited); geometry that differs from what the book holds is refused like any other change.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.identity.models import Tenant
from app.import_files import ImportProblem, read_file
from app.registry.book import append_entry
from app.registry.import_checks import HolderIn, RightIn, UnitIn, validate_record
from app.registry.models import RealtyUnit, RegisterEntry, Right, RightHolder
from app.security import audit
from app.vocabulary import RightStatus

__all__ = ["ImportProblem", "ImportReport", "import_file", "import_records"]

ALL_TENANTS = {"all_tenants": True}
CHUNK = 500


@dataclass
class ImportReport:
    source: str
    dry_run: bool = False
    created: int = 0
    skipped: int = 0
    rights: int = 0
    geometry_added: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        verb = "可新增" if self.dry_run else "新增"
        text = f"{verb} {self.created} 个单元（{self.rights} 项权利），跳过已存在且内容相同的 {self.skipped} 个单元"
        if self.geometry_added:
            text += f"，其中 {self.geometry_added} 个单元{'可' if self.dry_run else '已'}补充宗地面积或附图图形"
        return text


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def _geometry(unit: UnitIn | RealtyUnit) -> dict[str, Any]:
    return {"land_area_m2": _money(unit.land_area_m2), "outline": unit.outline}


def _fingerprint(unit: UnitIn) -> dict[str, Any]:
    """The unit's imported content without its survey geometry (``_geometry``), which is compared apart."""
    return {"tenant": unit.tenant, "location": unit.location, "use": unit.use, "area_m2": _money(unit.area_m2),
            "right_nature": unit.right_nature, "land_term_end": unit.land_term_end,
            "rights": sorted(({"type": r.type, "business_no": r.business_no, "cert_no": r.cert_no,
                               "amount_yuan": _money(r.amount_yuan), "registered_at": r.registered_at.isoformat(),
                               "details": r.details,
                               "holders": [[h.name, h.kind, h.id_number, h.share, h.share_mode] for h in r.holders]}
                              for r in unit.rights), key=lambda r: r["business_no"])}


def _fingerprint_in_book(session: Session, unit: RealtyUnit) -> dict[str, Any]:
    """The same shape as ``_fingerprint``, rebuilt from the unit row and the rights its initial entries created."""
    entries = session.execute(select(RegisterEntry.change).where(RegisterEntry.unit_id == unit.id,
                                                                 RegisterEntry.kind.like("initial_%"))
                              .execution_options(**ALL_TENANTS)).scalars().all()
    right_ids = [(change.get("created") or {}).get("right_id") for change in entries]
    rights = session.execute(select(Right).where(Right.id.in_([i for i in right_ids if i]))
                             .execution_options(**ALL_TENANTS)).scalars().all()
    book = UnitIn(line=0, unit_code=unit.unit_code, tenant=unit.tenant_id, location=unit.location, use=unit.use,
                  area_m2=unit.area_m2, right_nature=unit.right_nature, land_term_end=unit.land_term_end)
    for right in rights:
        book.rights.append(RightIn(
            type=right.right_type, business_no=right.business_no or "", cert_no=right.cert_no,
            amount_yuan=right.amount_yuan, registered_at=right.created_at, details=right.details or {},
            holders=[_holder_in(h) for h in right.holders]))
    return _fingerprint(book)


def _holder_in(holder: RightHolder) -> HolderIn:
    return HolderIn(name=holder.name or "", kind=holder.kind, id_number=holder.id_number or "", share=holder.share,
                    share_mode=holder.share_mode)


def _existing_units(session: Session, codes: list[str]) -> dict[str, RealtyUnit]:
    found: dict[str, RealtyUnit] = {}
    for start in range(0, len(codes), CHUNK):
        rows = session.execute(select(RealtyUnit).where(RealtyUnit.unit_code.in_(codes[start:start + CHUNK]))
                               .execution_options(**ALL_TENANTS)).scalars()
        found.update((u.unit_code, u) for u in rows)
    return found


def _geometry_fits(in_book: RealtyUnit, unit: UnitIn) -> bool | None:
    """True: the book holds the same geometry (or the record has none); None: the book has none and the record
    brings some (to be added); False: both have geometry and it differs."""
    book, record = _geometry(in_book), _geometry(unit)
    if record == {"land_area_m2": None, "outline": None} or book == record:
        return True
    return None if book == {"land_area_m2": None, "outline": None} else False


def _write_unit(session: Session, unit_in: UnitIn, recorded_by: str | None) -> int:
    unit = RealtyUnit(unit_code=unit_in.unit_code, tenant_id=unit_in.tenant, location=unit_in.location,
                      use=unit_in.use, area_m2=unit_in.area_m2, right_nature=unit_in.right_nature,
                      land_term_end=unit_in.land_term_end, land_area_m2=unit_in.land_area_m2,
                      outline=unit_in.outline)
    unit.ensure_id()
    session.add(unit)
    session.flush()
    for right_in in sorted(unit_in.rights, key=lambda r: r.registered_at):
        right = Right(unit_id=unit.id, tenant_id=unit.tenant_id, right_type=right_in.type, status=RightStatus.CURRENT,
                      business_no=right_in.business_no, cert_no=right_in.cert_no, amount_yuan=right_in.amount_yuan,
                      details=right_in.details, created_at=right_in.registered_at)
        right.ensure_id()
        for position, h in enumerate(right_in.holders):
            holder = RightHolder(right_id=right.id, tenant_id=unit.tenant_id, position=position, kind=h.kind,
                                 share=h.share, share_mode=h.share_mode)
            holder.ensure_id()
            holder.name, holder.id_number = h.name, h.id_number
            right.holders.append(holder)
        session.add(right)
        session.flush()
        append_entry(session, unit, business_no=right_in.business_no, kind=f"initial_{right_in.type}",
                     change={"created": {"right_id": right.id, "type": right_in.type,
                                         "holders": [h.id_number_bidx for h in right.holders]},
                             "ended": [], "registered_at": right_in.registered_at.isoformat(), "source": "import"},
                     recorded_by=recorded_by)
    return len(unit_in.rights)


def import_records(session: Session, records: Iterable[dict[str, Any]], *, source: str = "records",
                   problems: Iterable[ImportProblem] = (), dry_run: bool = False,
                   recorded_by: str | None = None) -> ImportReport:
    """Validate, compare and (when every record is good and not ``dry_run``) write. Records are dicts in the
    JSON Lines shape, each with ``_line`` (its line in the source file). Writes nothing if any record is bad."""
    report = ImportReport(source=source, dry_run=dry_run, problems=list(problems))
    offices = set(session.execute(select(Tenant.code)).scalars())
    units: list[UnitIn] = []
    first_line: dict[str, int] = {}
    for raw in records:
        unit, found = validate_record(raw, offices)
        report.problems += found
        if unit is None:
            continue
        if unit.unit_code in first_line:
            report.problems.append(ImportProblem(unit.line, f"不动产单元 {unit.unit_code} 与第 "
                                                            f"{first_line[unit.unit_code]} 行重复"))
            continue
        first_line[unit.unit_code] = unit.line
        units.append(unit)
    existing = _existing_units(session, [u.unit_code for u in units])
    new_units: list[UnitIn] = []
    geometry: list[tuple[RealtyUnit, UnitIn]] = []
    for unit in units:
        in_book = existing.get(unit.unit_code)
        fits = _geometry_fits(in_book, unit) if in_book is not None else True
        if in_book is None:
            new_units.append(unit)
        elif fits is not False and _fingerprint_in_book(session, in_book) == _fingerprint(unit):
            report.skipped += 1
            if fits is None:
                geometry.append((in_book, unit))
        else:
            report.problems.append(ImportProblem(unit.line, f"不动产单元 {unit.unit_code} 已在登记簿中且内容不同，"
                                                            "不予覆盖（如需更改请办理更正或变更登记）"))
    report.problems.sort(key=lambda p: p.line)
    if report.problems:
        report.created = report.skipped = 0
        return report
    report.created = len(new_units)
    report.rights = sum(len(u.rights) for u in new_units)
    report.geometry_added = len(geometry)
    if dry_run:
        return report
    for unit in new_units:
        _write_unit(session, unit, recorded_by)
    for in_book, unit in geometry:
        in_book.land_area_m2, in_book.outline = unit.land_area_m2, unit.outline
    audit.record(session, actor_id=recorded_by, action="register.import", object_type="register_import",
                 object_id=None, after={"source": source, "created": report.created, "skipped": report.skipped,
                                        "rights": report.rights, "geometry_added": [u.unit_code for _, u in geometry]})
    return report


def import_file(session: Session, path: Path, *, fmt: str | None = None, dry_run: bool = False,
                recorded_by: str | None = None) -> ImportReport:
    records, problems = read_file(path, fmt)
    return import_records(session, records, source=path.name, problems=problems, dry_run=dry_run,
                          recorded_by=recorded_by)
