"""Checking the register book's hash chains (条例 10: the register may only be appended to).

PostgreSQL refuses UPDATE/DELETE on ``register_entry`` with a trigger, but a superuser can disable it and
SQLite has no such guard, so the chain is the evidence that survives: each entry's hash covers its content
and the previous entry's hash. Recomputing every unit's chain from the start shows an edited entry (hash no
longer matches its content), a removed or reordered one (gap in ``seq``, or ``prev_hash`` that is not the
previous entry's hash), and an edited hash (the next entry's ``prev_hash`` no longer matches).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.registry.book import GENESIS, entry_digest
from app.registry.models import RealtyUnit, RegisterEntry


@dataclass(frozen=True)
class ChainBreak:
    """One place where a unit's chain does not hold; ``reason`` is for the registrar, in Chinese."""

    unit_code: str
    seq: int
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """What was checked, so "passed" can say how much it covers."""

    units: int
    entries: int
    breaks: list[ChainBreak]


def _check_unit(unit_code: str, entries: list[RegisterEntry]) -> list[ChainBreak]:
    breaks: list[ChainBreak] = []
    prev_hash = GENESIS
    for expected_seq, entry in enumerate(entries, start=1):
        if entry.seq != expected_seq:
            breaks.append(ChainBreak(unit_code, entry.seq, f"序号不连续：应为 {expected_seq}，实为 {entry.seq}"))
        if entry.prev_hash != prev_hash:
            breaks.append(ChainBreak(unit_code, entry.seq, "前一条记载的哈希不符（记载被删除、插入或篡改）"))
        digest = entry_digest(entry.prev_hash, unit_code, entry.seq, entry.business_no, entry.kind,
                              entry.recorded_at.isoformat(), entry.change)
        if entry.hash != digest:
            breaks.append(ChainBreak(unit_code, entry.seq, "记载内容与哈希不符（记载被篡改）"))
        prev_hash = entry.hash
    return breaks


def verify_register_report(session: Session) -> VerifyReport:
    """Recompute every unit's chain, in ``seq`` order, across all tenants."""
    units = session.execute(select(RealtyUnit.id, RealtyUnit.unit_code).order_by(RealtyUnit.unit_code)
                            .execution_options(all_tenants=True)).all()
    entries = session.execute(select(RegisterEntry).order_by(RegisterEntry.unit_id, RegisterEntry.seq)
                              .execution_options(all_tenants=True)).scalars().all()
    by_unit: dict[str, list[RegisterEntry]] = {}
    for entry in entries:
        by_unit.setdefault(entry.unit_id, []).append(entry)
    breaks: list[ChainBreak] = []
    for unit_id, unit_code in units:
        breaks += _check_unit(unit_code, by_unit.get(unit_id, []))
    return VerifyReport(units=len(units), entries=len(entries), breaks=breaks)


def verify_register(session: Session) -> list[ChainBreak]:
    """Every break in every unit's chain; empty when the register book is intact."""
    return verify_register_report(session).breaks
