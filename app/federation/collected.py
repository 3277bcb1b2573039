"""What a province has collected from its cities (逐级归集), for its operators to see: the cases each city reported
(``federated_case``: the routing rows of applications from the national platform and the rows opened for cases
filed at the city's own portal), the register-log checkpoints (``collected_checkpoint``), and a health line per city
(when it last reported, how many reports in the last 24 hours, how many cases, the relay backlog to the national
platform). Read-only; the rows hold no personal data (numbers, types, states, certificate numbers and digests).

The queries live here so the skins (app/federation_pages.py, app/api/federation_collected.py) build no SQL.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.casefile.status import status_label
from app.catalog.service import enabled_definitions
from app.clock import CHINA, in_beijing
from app.db import utcnow
from app.federation.forward_models import CollectedCheckpoint, FederatedCase
from app.federation.peers import list_peers
from app.federation.reports import NATIONAL_CODE, RELAY_TOPIC
from app.identifiers import division_name
from app.integrations.models import OutboxMessage
from app.security.models import AuditEntry
from app.vocabulary import OutboxStatus

REPORT_ACTIONS = ("federation.report_received", "federation.checkpoint_collected")
MAX_PER_PAGE = 200
ORIGIN_LABELS = {"national": "全国平台", "city": "本市门户"}


@dataclass(frozen=True)
class CollectedFilter:
    """The list's filters: a city, a business type, a status, a 业务号, and Beijing days of the last report."""

    city: str = ""
    business_type: str = ""
    status: str = ""
    business_no: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class CollectedRow:
    city_code: str
    city_name: str
    business_no: str
    business_type: str
    type_name: str
    status: str
    status_label: str
    last_step_at: datetime | None  # when the newest reported step happened at the city
    updated_at: datetime  # when the province last kept a report of this case
    origin: str  # national | city
    origin_label: str
    certificates: list[dict[str, Any]] = field(default_factory=list)  # number, kind, status, sha256, verify_url

    def as_json(self) -> dict[str, Any]:
        return {"city": self.city_code, "city_name": self.city_name, "business_no": self.business_no,
                "business_type": self.business_type, "business_type_name": self.type_name, "status": self.status,
                "status_label": self.status_label,
                "last_step_at": self.last_step_at.isoformat() if self.last_step_at else None,
                "updated_at": self.updated_at.isoformat(), "origin": self.origin, "origin_label": self.origin_label,
                "certificates": self.certificates}


@dataclass(frozen=True)
class CollectedPage:
    rows: list[CollectedRow]
    total: int
    page: int
    pages: int
    per_page: int


@dataclass(frozen=True)
class CityHealth:
    """One city's line: whether it reports, and what waits to go on to the national platform."""

    code: str
    name: str
    connected: bool  # a configured peer (else only rows it reported before it was removed)
    last_report_at: datetime | None
    reports_24h: int
    cases: int
    relay_pending: int

    def as_json(self) -> dict[str, Any]:
        return {"city": self.code, "name": self.name, "connected": self.connected,
                "last_report_at": self.last_report_at.isoformat() if self.last_report_at else None,
                "reports_24h": self.reports_24h, "cases": self.cases, "relay_pending": self.relay_pending}


@dataclass(frozen=True)
class CityCheckpoint:
    """The newest register-log checkpoint kept for a city, and how many."""

    code: str
    name: str
    seq: int
    received_at: datetime
    consistent: bool
    sha256: str
    kept: int
    inconsistent: int

    def as_json(self) -> dict[str, Any]:
        return {"city": self.code, "name": self.name, "seq": self.seq, "received_at": self.received_at.isoformat(),
                "consistent": self.consistent, "sha256": self.sha256, "kept": self.kept,
                "inconsistent": self.inconsistent}


@dataclass(frozen=True)
class RelayBacklog:
    """Province → national: the ``federation.report`` messages of the outbox not yet delivered."""

    pending: int
    dead: int
    oldest_pending_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"pending": self.pending, "dead": self.dead,
                "oldest_pending_at": self.oldest_pending_at.isoformat() if self.oldest_pending_at else None}


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value if value.tzinfo else value.replace(tzinfo=UTC)


def day_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """Beijing calendar days as UTC instants [start, end): a day is what the office calls a day (DESIGN §4)."""
    start = datetime.combine(date_from, time.min, CHINA).astimezone(UTC) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, CHINA).astimezone(UTC) if date_to else None
    return start, end


def city_names(session: Session) -> dict[str, str]:
    """Every city this province knows: its configured city peers and any city that reported a case."""
    names = {p.code: p.name for p in list_peers(session) if p.level == "city"}
    for (code,) in session.execute(select(FederatedCase.city_code).distinct()):
        names.setdefault(code, division_name(code) or code)
    return dict(sorted(names.items()))


def type_names(session: Session) -> dict[str, str]:
    return {d.code: d.name for _, d in enabled_definitions(session)}


def _filtered(f: CollectedFilter) -> Select[FederatedCase]:
    stmt = select(FederatedCase).where(FederatedCase.business_no.is_not(None), FederatedCase.business_no != "")
    if f.city:
        stmt = stmt.where(FederatedCase.city_code == f.city)
    if f.business_type:
        stmt = stmt.where(FederatedCase.business_type == f.business_type)
    if f.status:
        stmt = stmt.where(FederatedCase.status == f.status)
    if f.business_no:
        stmt = stmt.where(FederatedCase.business_no == f.business_no.strip())
    start, end = day_bounds(f.date_from, f.date_to)
    if start is not None:
        stmt = stmt.where(FederatedCase.updated_at >= start)
    if end is not None:
        stmt = stmt.where(FederatedCase.updated_at < end)
    return stmt


def _last_step_at(steps: list[dict[str, Any]]) -> datetime | None:
    found = []
    for step in steps:
        try:
            found.append(in_beijing(str(step["at"])))
        except (KeyError, TypeError, ValueError):
            continue
    return max(found) if found else None


def _row(case: FederatedCase, cities: dict[str, str], types: dict[str, str]) -> CollectedRow:
    origin = "national" if case.origin_code == NATIONAL_CODE else "city"
    certificates = [{k: c.get(k) for k in ("certificate_no", "kind", "title", "status", "sha256", "verify_url")}
                    for c in case.certificates or []]
    return CollectedRow(city_code=case.city_code, city_name=cities.get(case.city_code, case.city_code),
                        business_no=case.business_no or "", business_type=case.business_type,
                        type_name=types.get(case.business_type, case.business_type), status=case.status,
                        status_label=case.status_label or status_label(case.status),
                        last_step_at=_last_step_at(case.steps or []), updated_at=_aware(case.updated_at) or utcnow(),
                        origin=origin, origin_label=ORIGIN_LABELS[origin], certificates=certificates)


def collected_cases(session: Session, f: CollectedFilter) -> CollectedPage:
    """One page of the collected cases, the most recently reported first."""
    per_page = min(max(f.per_page, 1), MAX_PER_PAGE)
    stmt = _filtered(f)
    total = int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())
    pages = max(1, math.ceil(total / per_page))
    page = min(max(f.page, 1), pages)
    found = session.execute(stmt.order_by(FederatedCase.updated_at.desc(), FederatedCase.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)).scalars().all()
    cities, types = city_names(session), type_names(session)
    return CollectedPage([_row(c, cities, types) for c in found], total, page, pages, per_page)


def counts_by_city_and_status(session: Session) -> dict[str, dict[str, int]]:
    """Collected cases counted per city and status (every case, whatever the list's filters)."""
    counted: dict[str, dict[str, int]] = {}
    rows = session.execute(select(FederatedCase.city_code, FederatedCase.status, func.count())
                           .where(FederatedCase.business_no.is_not(None), FederatedCase.business_no != "")
                           .group_by(FederatedCase.city_code, FederatedCase.status))
    for city, status, n in rows:
        counted.setdefault(city, {})[status] = int(n)
    return counted


def statuses(session: Session) -> list[tuple[str, str]]:
    """(status, label) of the states the collected cases are in, for the filter."""
    found = session.execute(select(FederatedCase.status).distinct()).scalars().all()
    return sorted((s, status_label(s)) for s in found if s)


def city_checkpoints(session: Session) -> list[CityCheckpoint]:
    """Per city: the newest checkpoint kept (number, when, whether it holds together), how many, how many not."""
    cities = city_names(session)
    tallies = {city: (int(kept), int(bad or 0)) for city, kept, bad in session.execute(
        select(CollectedCheckpoint.city_code, func.count(),
               func.count().filter(CollectedCheckpoint.consistent.is_(False)))
        .group_by(CollectedCheckpoint.city_code))}
    newest = select(CollectedCheckpoint.city_code, func.max(CollectedCheckpoint.seq).label("seq")) \
        .group_by(CollectedCheckpoint.city_code).subquery()
    rows = session.execute(select(CollectedCheckpoint).join(
        newest, (CollectedCheckpoint.city_code == newest.c.city_code) & (CollectedCheckpoint.seq == newest.c.seq))
        .order_by(CollectedCheckpoint.city_code)).scalars().all()
    return [CityCheckpoint(r.city_code, cities.get(r.city_code, division_name(r.city_code) or r.city_code), r.seq,
                           _aware(r.received_at) or utcnow(), r.consistent, r.sha256, *tallies[r.city_code])
            for r in rows]


def relay_backlog(session: Session) -> RelayBacklog:
    """The province's relay to the national platform: pending and dead ``federation.report`` messages."""
    pending, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.topic == RELAY_TOPIC, OutboxMessage.status == OutboxStatus.PENDING)).one()
    dead = session.execute(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.topic == RELAY_TOPIC, OutboxMessage.status == OutboxStatus.DEAD)).scalar_one()
    return RelayBacklog(int(pending), int(dead), _aware(oldest))


def city_health(session: Session, *, now: datetime | None = None) -> list[CityHealth]:
    """A line per city: its last report (the newest case report or checkpoint kept from it), the reports it sent
    in the last 24 hours that the province kept (the audited ones: a duplicate delivery changes nothing and is
    not counted), its collected cases, and its cases' relay messages still waiting for the national platform."""
    now = now or utcnow()
    peers = {p.code for p in list_peers(session) if p.level == "city"}
    cities = city_names(session)
    case_last = {c: at for c, at in session.execute(select(FederatedCase.city_code, func.max(FederatedCase.updated_at))
                                                    .group_by(FederatedCase.city_code))}
    cases = {c: int(n) for c, n in session.execute(
        select(FederatedCase.city_code, func.count()).where(FederatedCase.business_no.is_not(None),
                                                            FederatedCase.business_no != "")
        .group_by(FederatedCase.city_code))}
    checkpoint_last = {c: at for c, at in session.execute(
        select(CollectedCheckpoint.city_code, func.max(CollectedCheckpoint.received_at))
        .group_by(CollectedCheckpoint.city_code))}
    sender = AuditEntry.after["from"].as_string()
    recent = {str(c): int(n) for c, n in session.execute(
        select(sender, func.count()).where(AuditEntry.action.in_(REPORT_ACTIONS),
                                           AuditEntry.at >= now - timedelta(hours=24))
        .group_by(sender)) if c}
    relay_key = "relay:" + FederatedCase.id
    relay = {c: int(n) for c, n in session.execute(
        select(FederatedCase.city_code, func.count())
        .join(OutboxMessage, OutboxMessage.ordering_key == relay_key)
        .where(OutboxMessage.topic == RELAY_TOPIC, OutboxMessage.status == OutboxStatus.PENDING)
        .group_by(FederatedCase.city_code))}
    lines = []
    for code, name in cities.items():
        times = [t for t in (_aware(case_last.get(code)), _aware(checkpoint_last.get(code))) if t is not None]
        lines.append(CityHealth(code, name, code in peers, max(times) if times else None, recent.get(code, 0),
                                cases.get(code, 0), relay.get(code, 0)))
    return lines


def ensure_province(platform_level: str) -> None:
    """Only a province collects its cities' cases: elsewhere these pages do not exist (404 for everyone)."""
    from app.errors import NotFound

    if platform_level != "province":
        raise NotFound("各市归集情况仅在省级平台查看", code="not_province")
