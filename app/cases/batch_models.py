"""What an institution's batch filing leaves behind: the batch, its items' answers, and the idempotency record
that makes a resent item create nothing twice.

Item content (forms carry mortgagors' names and ID numbers) is never kept here: only its SHA-256, enough to
tell a resent item from a changed one. The case the item created holds the data, encrypted as usual."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, UTCDateTime, utcnow


class InstitutionFiling(IdMixin, Base):
    """One idempotency key of an institution, bound to the case its first accepted item created. A later item
    with the same key and the same content answers with that case; with other content it is refused."""

    __tablename__ = "institution_filing"
    __table_args__ = (UniqueConstraint("institution_id", "idempotency_key", name="uq_institution_filing_key"),)

    institution_id: Mapped[str] = mapped_column(ForeignKey("institution.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    business_type: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InstitutionBatch(IdMixin, Base):
    """One sending of a batch (a resend is a new batch whose items answer with the cases already made)."""

    __tablename__ = "institution_batch"

    institution_id: Mapped[str] = mapped_column(ForeignKey("institution.id"), index=True)
    submitted_by: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    accepted_count: Mapped[int] = mapped_column(Integer, default=0)
    refused_count: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list[BatchItem]] = relationship(order_by="BatchItem.position", lazy="raise_on_sql",
                                                  viewonly=True)


class BatchItem(IdMixin, Base):
    """The answer to one item of a batch: accepted with its case, or refused with field errors in Chinese."""

    __tablename__ = "institution_batch_item"
    __table_args__ = (UniqueConstraint("batch_id", "position", name="uq_institution_batch_item_position"),)

    batch_id: Mapped[str] = mapped_column(ForeignKey("institution_batch.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based, in the order sent
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    business_type: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # accepted | refused
    replayed: Mapped[bool] = mapped_column(Boolean, default=False)  # answered from an earlier sending
    case_id: Mapped[str | None] = mapped_column(ForeignKey("reg_case.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(64))  # the refusal's error code
    message: Mapped[str | None] = mapped_column(String(1000))
    errors: Mapped[dict[str, Any] | None] = mapped_column(JSON)
