"""Business numbers (业务号): ``YYYY`` + 6-digit office code + 2-digit business class + 6-digit serial,
e.g. 2026 330106 20 000001. Unique, readable, and gap-free per office and year because the counter is
incremented inside the submitting transaction: a rolled-back submission gives its number back."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.cases.models import BusinessNumberCounter


def _locked_counter(session: Session, tenant_id: str, year: int) -> BusinessNumberCounter | None:
    return session.execute(
        select(BusinessNumberCounter)
        .where(BusinessNumberCounter.tenant_id == tenant_id, BusinessNumberCounter.year == year)
        .with_for_update()
    ).scalar_one_or_none()


def next_business_no(session: Session, tenant_id: str, year: int, reg_class: str) -> str:
    counter = _locked_counter(session, tenant_id, year)
    if counter is None:
        try:  # first number of the year: two offices' first submissions may race to create the row
            with session.begin_nested():
                session.add(BusinessNumberCounter(tenant_id=tenant_id, year=year, last=0))
        except IntegrityError:
            pass
        counter = _locked_counter(session, tenant_id, year)
        assert counter is not None
    counter.last += 1
    session.flush()
    return f"{year:04d}{tenant_id}{reg_class}{counter.last:06d}"
