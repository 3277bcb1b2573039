"""What in the register book still uses a dictionary entry: a division's units, a right type's rights, the units
recorded with a right nature or a use. A dictionary entry the book uses cannot be deleted (only given an end
date); the catalog asks through ``book_uses``, which the dictionary page passes in."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.models import DictionaryEntry
from app.registry.models import RealtyUnit, Right


def _count(session: Session, stmt: Any) -> int:
    return int(session.execute(stmt).scalar() or 0)


def _units(session: Session, condition: Any) -> list[str]:
    n = _count(session, select(func.count()).select_from(RealtyUnit).where(condition))
    return [f"登记簿中 {n} 个不动产单元"] if n else []


def book_uses(session: Session, entry: DictionaryEntry) -> list[str]:
    """What of the book refers to ``entry``, in Chinese; empty when nothing does."""
    if entry.kind == "divisions":
        return _units(session, RealtyUnit.unit_code.like(f"{entry.code}%"))
    if entry.kind == "right_types":
        n = _count(session, select(func.count()).select_from(Right).where(Right.right_type == entry.code))
        return [f"登记簿中 {n} 条权利"] if n else []
    if entry.kind == "right_natures":
        return _units(session, RealtyUnit.right_nature == entry.name)
    if entry.kind == "uses":
        return _units(session, RealtyUnit.use == entry.name)
    return []
