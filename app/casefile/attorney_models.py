"""授权委托书 (细则 12): what an agent institution (房屋经纪机构 / 登记代理机构) may file for whom. Owned by the
case file: a case filed by an agent names the power of attorney it was filed under."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UTCDateTime, utcnow
from app.security.fields import EncryptedField


class PowerOfAttorney(IdMixin, Base):
    """One recorded 委托书: the principal (委托人, personal data encrypted, blind index to match the case's
    parties), its scope (business types, unit codes), validity and, when notarised, the 公证书 number.
    Not tenant-scoped: an agent works across districts, and only the agent's own rows are ever read."""

    __tablename__ = "power_of_attorney"

    agent_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    principal_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    principal_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    principal_bidx: Mapped[str | None] = mapped_column(String(32), index=True)
    business_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    unit_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    notarial_no: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # 撤销: by the agent, the principal, or a window clerk the principal asked; no new filing may use it after
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    revoke_reason: Mapped[str | None] = mapped_column(String(200))

    principal_name = EncryptedField("principal_name_enc")
    principal_id_number = EncryptedField("principal_id_enc", index="principal_bidx")
