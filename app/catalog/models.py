"""Definitions as versioned rows: a business type points at its current process version; cases keep the
version they started on, so publishing a changed diagram never breaks a running case."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UTCDateTime, utcnow


class BusinessType(Base):
    __tablename__ = "business_type"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(16))
    current_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("process_version.id", use_alter=True, name="fk_business_type_current_version")
    )
    enabled: Mapped[bool] = mapped_column(default=True)


class ProcessVersion(IdMixin, Base):
    """One immutable, content-hashed version of a type: diagram, parsed spec (serialized once), forms,
    checklist and metadata exactly as they were when loaded."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("business_type_code", "content_sha256"),
                      UniqueConstraint("business_type_code", "version_no"))

    business_type_code: Mapped[str] = mapped_column(ForeignKey("business_type.code"), index=True)
    version_no: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    process_id: Mapped[str] = mapped_column(String(64))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    spec_json: Mapped[str] = mapped_column(Text)  # SpiffWorkflow spec + subprocess specs, serialized once
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # business.yaml + materials + forms + tasks
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ProcessDraft(IdMixin, Base):
    """An analyst's unpublished diagram for a business type (one working draft per type): saved from the
    designer, validated and dry-run there, and only published as a new ``ProcessVersion``."""

    __tablename__ = "process_draft"

    business_type_code: Mapped[str] = mapped_column(ForeignKey("business_type.code"), unique=True)
    bpmn_xml: Mapped[str] = mapped_column(Text)
    based_on_version_id: Mapped[str | None] = mapped_column(ForeignKey("process_version.id"))
    author_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DictionaryEntry(IdMixin, Base):
    """One entry of a code list the analysts maintain (divisions, right types, uses …), with validity dates so
    a retired code stays readable on old records instead of being deleted."""

    __tablename__ = "dictionary_entry"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    kind: Mapped[str] = mapped_column(String(32), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(16))
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str | None] = mapped_column(Text)  # opinion templates: the template text
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
