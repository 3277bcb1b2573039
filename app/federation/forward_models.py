"""Applications that cross levels (``federated_case``): one row per application a platform forwarded, routed or
accepted from another platform, and — at a province — per case a city reports upward (逐级归集).

At the national platform the row is the person's application filed there (``applicant_user_id``); at the
province it records where the application went (city, the city's case id and 业务号); at the city it ties the
origin's reference to the case it opened. Every level keeps the progress steps and the e-certificates reported
from below in the same row, so each can show them without asking the level beneath.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UTCDateTime, utcnow


class FederatedStatus(StrEnum):
    """A row's own states before the city's case has one to report (from then on the row mirrors the case's
    ``CaseStatus`` as reported from below)."""

    FILING = "filing"  # claimed at the city while the application is being filed
    NAVIGATED = "navigated"  # the national entrance sent the person to the city; no application yet


class FederatedCase(IdMixin, Base):
    """An application keyed by the platform it was filed at (``origin_code``) and that platform's reference
    (``origin_ref``): a replay of the same origin and reference finds this row instead of filing again.
    No personal data: the applicant is known by the blind index of the ID number and, where filed, by account."""

    __tablename__ = "federated_case"
    __table_args__ = (UniqueConstraint("origin_code", "origin_ref"),)

    origin_code: Mapped[str] = mapped_column(String(6))
    origin_ref: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))  # of what was filed: other content, same ref → 409
    business_type: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(32))
    applicant_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    applicant_bidx: Mapped[str | None] = mapped_column(String(32), index=True)
    city_code: Mapped[str] = mapped_column(String(6))
    case_id: Mapped[str | None] = mapped_column(String(32))  # the case at the city
    business_no: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(32))
    status_label: Mapped[str] = mapped_column(String(32), default="")
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    certificates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CollectedCheckpoint(IdMixin, Base):
    """A city's signed register-log checkpoint kept at its province (the one-way export of the register log,
    逐级归集): the record as the city signed it, so a package the city exports later can be checked against it
    (app/registry/log_export.py)."""

    __tablename__ = "collected_checkpoint"
    __table_args__ = (UniqueConstraint("city_code", "seq"),)

    city_code: Mapped[str] = mapped_column(String(6))
    seq: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    consistent: Mapped[bool] = mapped_column(Boolean)  # signature by its own certificate and body add up
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
