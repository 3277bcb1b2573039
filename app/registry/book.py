"""Appending to the register book. Every 登簿 goes through ``append_entry``: the only write path for
RegisterEntry, chained by hash to the unit's previous entry."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import transaction_cache, utcnow
from app.registry.models import RealtyUnit, RegisterEntry

GENESIS = "0" * 64
# transaction cache: ids of the units this transaction locked (dropped, like the locks, when a savepoint rolls back)
LOCKED_UNITS = "locked_units"
# transaction cache: unit id → its last entry (None: none yet), read under the unit's lock (service.unit_by_code)
LAST_ENTRIES = "last_register_entries"


def entry_digest(prev_hash: str, unit_code: str, seq: int, business_no: str, kind: str,
                 recorded_at: str, change: dict[str, Any]) -> str:
    body = json.dumps({"unit": unit_code, "seq": seq, "business_no": business_no, "kind": kind,
                       "at": recorded_at, "change": change}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


def append_entry(session: Session, unit: RealtyUnit, *, business_no: str, kind: str, change: dict[str, Any],
                 recorded_by: str | None) -> RegisterEntry:
    # Lock the unit row so two recordings on one unit serialize (PostgreSQL; SQLite locks the database), unless
    # this transaction holds it already (登簿 locks it first: service.unit_by_code(lock=True)).
    locked = transaction_cache(session, LOCKED_UNITS)
    if unit.id not in locked:
        session.execute(select(RealtyUnit.id).where(RealtyUnit.id == unit.id).with_for_update())
        locked[unit.id] = True
    known = transaction_cache(session, LAST_ENTRIES)
    if unit.id in known:  # read with its rights, after the lock (issue 18)
        last = known[unit.id]
    else:
        last = session.execute(select(RegisterEntry).where(RegisterEntry.unit_id == unit.id)
                               .order_by(RegisterEntry.seq.desc()).limit(1)).scalar_one_or_none()
    seq = (last.seq + 1) if last else 1
    prev_hash = last.hash if last else GENESIS
    at = utcnow()
    entry = RegisterEntry(unit_id=unit.id, tenant_id=unit.tenant_id, seq=seq, business_no=business_no, kind=kind,
                          recorded_by=recorded_by, recorded_at=at, change=change, prev_hash=prev_hash)
    entry.hash = entry_digest(prev_hash, unit.unit_code, seq, business_no, kind, at.isoformat(), change)
    session.add(entry)
    known[unit.id] = entry
    return entry


def entry_count(session: Session, unit: RealtyUnit) -> int:
    return session.execute(select(func.count()).select_from(RegisterEntry)
                           .where(RegisterEntry.unit_id == unit.id)).scalar_one()
