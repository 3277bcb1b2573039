"""What data sharing leaves on a case: verification snapshots (the fixed-format record of one check, part of
the 登记原始资料, 细则 94), the material waivers they justify, and the 税务 tax case awaiting 完税."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TenantScoped, UTCDateTime, utcnow
from app.security.fields import decrypt_json, encrypt_json
from app.vocabulary import TaxStatus

MARKS = ("一致", "不一致", "未核验")


class VerificationSnapshot(IdMixin, TenantScoped, Base):
    """One check against one department. ``marks`` (field label → 一致/不一致/未核验) is public; the declared
    and found values, which are personal data, are in ``fields`` (encrypted, row-bound)."""

    __tablename__ = "verification_snapshot"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    business_no: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))       # identity | marriage | contract | business_licence | tax …
    department: Mapped[str] = mapped_column(String(32))   # 公安 | 民政 | 住建 | 税务 …
    operation: Mapped[str] = mapped_column(String(64))
    subject_role: Mapped[str | None] = mapped_column(String(32))
    subject_label: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(8))        # 一致 | 不一致 | 未核验
    marks: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    fields_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    call_log_id: Mapped[str | None] = mapped_column(String(32))
    # A check the department could not answer (result 未核验): ``pending`` until the verification job has run
    # it again (app/cases/sharing/rechecks.py), then ``resolved``; None for a check that was answered.
    retry_state: Mapped[str | None] = mapped_column(String(16), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def fields(self) -> list[dict[str, Any]]:
        aad = f"verification_snapshot:fields:{self.ensure_id()}"
        return decrypt_json(self.fields_enc, aad) if self.fields_enc else []

    @fields.setter
    def fields(self, value: list[dict[str, Any]]) -> None:
        self.fields_enc = encrypt_json(value, f"verification_snapshot:fields:{self.ensure_id()}")


class MaterialWaiver(IdMixin, TenantScoped, Base):
    """A checklist item the applicant need not upload, and why (条例 24: what sharing provides is not
    demanded again)."""

    __tablename__ = "material_waiver"
    __table_args__ = (UniqueConstraint("case_id", "material_code"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    material_code: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))
    snapshot_id: Mapped[str | None] = mapped_column(ForeignKey("verification_snapshot.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Never loaded (set ``snapshot_id``): it tells the flush to insert the snapshots before the waivers that
    # name them, so that a step's checks and waivers go out as one INSERT each, not one flush per check.
    snapshot: Mapped[VerificationSnapshot | None] = relationship(lazy="raise")


class TaxCase(IdMixin, TenantScoped, Base):
    """The tax case pushed to 税务 for a transfer, and its 完税 result (delivered by signed callback or
    found by reconciliation). One per case; the business number correlates the callback."""

    __tablename__ = "tax_case"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), unique=True)
    business_no: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=TaxStatus.PENDING)
    tax_case_no: Mapped[str | None] = mapped_column(String(64))
    voucher_no: Mapped[str | None] = mapped_column(String(64))
    total_yuan: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
