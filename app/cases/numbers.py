"""Business numbers (业务号): ``YYYY`` + 6-digit office code + 2-digit business class + 6-digit serial,
e.g. 2026 330106 20 000001. Unique, readable, and gap-free per office and year because the counter is
incremented inside the submitting transaction: a rolled-back submission gives its number back."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.casefile.models import BusinessNumberCounter
from app.db import next_counter_value


def next_business_no(session: Session, tenant_id: str, year: int, reg_class: str) -> str:
    serial = next_counter_value(session, BusinessNumberCounter, tenant_id=tenant_id, year=year)
    return f"{year:04d}{tenant_id}{reg_class}{serial:06d}"
