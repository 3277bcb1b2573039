"""Business numbers (业务号): ``YYYY`` + 6-digit office code + 2-digit business class + 6-digit serial,
e.g. 2026 330106 20 000001. Unique and readable per office and year.

A submission sends its number to 税务 before it commits (app/integrations/answers.py re-runs it with the
answers), so inside a unit of work the number is taken once, in a short transaction of its own
(``answers.reserved``), and kept by every pass: a number given back between passes could be taken by
another submission while 税务 already holds it for this case. A submission that then fails for good leaves
a gap. Outside a unit of work (CLI, benches) the counter is incremented in the caller's transaction."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.casefile.models import BusinessNumberCounter
from app.db import next_counter_value
from app.integrations.answers import reserved


def next_business_no(session: Session, tenant_id: str, year: int, reg_class: str) -> str:
    serial = reserved(session, f"business_no:{tenant_id}:{year}", lambda s: next_counter_value(
        s, BusinessNumberCounter, tenant_id=tenant_id, year=year))
    return f"{year:04d}{tenant_id}{reg_class}{serial:06d}"
