"""The register book (不动产登记簿), minimal first cut: units, rights with holders, and the append-only
entries that record every change. Current rights are the rows with status 现势 (current); a 登簿 that
replaces a right moves the old one to 历史 (history) and appends an entry chained to the unit's previous one.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TenantScoped, UTCDateTime, utcnow
from app.security.fields import EncryptedField
from app.vocabulary import CertificateStatus, RightStatus


class RealtyUnit(IdMixin, TenantScoped, Base):
    __tablename__ = "realty_unit"

    unit_code: Mapped[str] = mapped_column(String(28), unique=True)
    location: Mapped[str] = mapped_column(String(200))  # 坐落
    use: Mapped[str] = mapped_column(String(16))  # 住宅 | 非住宅 …
    area_m2: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    right_nature: Mapped[str | None] = mapped_column(String(16))  # 出让 / 划拨 …
    land_term_end: Mapped[str | None] = mapped_column(String(10))
    # 共有宗地面积: the whole parcel's surveyed area, printed beside the building area on the certificate.
    land_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # The surveyed outline the certificate's 附图 draws (``app/registry/unit_plan.py``): {"parcel": [polygon…],
    # "building": [polygon…]}, points in metres. None when the register holds no geometry for the unit.
    outline: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    rights: Mapped[list[Right]] = relationship(back_populates="unit", order_by="Right.created_at")


def doubled_location() -> ColumnElement[str]:
    """The 坐落 with every character written twice (文三路 → 文文三三路路), on PostgreSQL: the trigrams of that
    text are the character pairs of the address, so a trigram index on it finds two-character terms (文三,
    西湖), which give no trigram of their own. ``t`` is in ``s`` exactly when doubled ``t`` is in doubled
    ``s``. Literal arguments, so that the planner sees the index's expression."""
    return func.regexp_replace(RealtyUnit.location, literal_column("'(.)'"), literal_column(r"'\1\1'"),
                               literal_column("'g'"))


# 坐落 substring search on PostgreSQL (pg_trgm, migration e3b7c9d1f5a2): terms of 3 characters or more use the
# trigrams of the address, 2-character terms those of its doubled form. SQLite scans (no such index there).
Index("ix_realty_unit_location_trgm", RealtyUnit.location, postgresql_using="gin",
      postgresql_ops={"location": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
Index("ix_realty_unit_location_pairs", doubled_location().label("location_pairs"), postgresql_using="gin",
      postgresql_ops={"location_pairs": "gin_trgm_ops"}).ddl_if(dialect="postgresql")


class Right(IdMixin, TenantScoped, Base):
    __tablename__ = "realty_right"

    unit_id: Mapped[str] = mapped_column(ForeignKey("realty_unit.id"), index=True)
    right_type: Mapped[str] = mapped_column(String(16))  # ownership | mortgage | seizure | advance_notice | objection
    status: Mapped[str] = mapped_column(String(16), default=RightStatus.CURRENT, index=True)
    business_no: Mapped[str | None] = mapped_column(String(32))
    cert_no: Mapped[str | None] = mapped_column(String(64))
    amount_yuan: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by_business_no: Mapped[str | None] = mapped_column(String(32))

    unit: Mapped[RealtyUnit] = relationship(back_populates="rights")
    holders: Mapped[list[RightHolder]] = relationship(back_populates="right", cascade="all, delete-orphan",
                                                      order_by="RightHolder.position")


class RightHolder(IdMixin, TenantScoped, Base):
    __tablename__ = "right_holder"

    right_id: Mapped[str] = mapped_column(ForeignKey("realty_right.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default="person")
    share: Mapped[str | None] = mapped_column(String(16))  # 共有份额, e.g. "1/2"
    share_mode: Mapped[str] = mapped_column(String(16), default="单独所有")
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str | None] = mapped_column(String(32), index=True)

    name = EncryptedField("name_enc")
    id_number = EncryptedField("id_number_enc", index="id_number_bidx")

    right: Mapped[Right] = relationship(back_populates="holders")


class RegisterEntry(IdMixin, TenantScoped, Base):
    """Append-only: one row per 登簿, hash-chained per unit. Holders are referenced by right id and blind
    index only, so the chain never carries readable personal data."""

    __tablename__ = "register_entry"
    __table_args__ = (UniqueConstraint("unit_id", "seq"),)

    unit_id: Mapped[str] = mapped_column(ForeignKey("realty_unit.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    business_no: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # initial | transfer | mortgage …
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    change: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Certificate(IdMixin, TenantScoped, Base):
    """An issued 不动产权证书 / 不动产登记证明 / 无房证明: numbered per office, year and kind, rendered from the
    book, signed, verifiable by ``verify_code``. Voided numbers (废号) stay as rows with status ``voided``."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "year", "seq"),)

    kind: Mapped[str] = mapped_column(String(16))  # title | proof | no_property
    number: Mapped[str] = mapped_column(String(64), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CertificateStatus.VALID, index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("reg_case.id"), index=True)
    business_no: Mapped[str | None] = mapped_column(String(32), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("realty_unit.id"), index=True)
    right_id: Mapped[str | None] = mapped_column(ForeignKey("realty_right.id"), index=True)
    verify_code: Mapped[str] = mapped_column(String(40), unique=True)
    holder_bidx: Mapped[list[str]] = mapped_column(JSON, default=list)  # who may download it
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # masked, for the verification page
    # 制证中 until the job renders it (app/registry/certificate_rendering.py): ``page_enc`` holds, encrypted, the
    # page 缮证 numbered (what the register said then); the job renders and signs exactly that, stores the PDF
    # (``storage_key``, ``sha256``, ``rendered_at``) and drops the snapshot.
    page_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    storage_key: Mapped[str | None] = mapped_column(String(128))
    sha256: Mapped[str | None] = mapped_column(String(64))
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    issued_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_business_no: Mapped[str | None] = mapped_column(String(32))
    void_reason: Mapped[str | None] = mapped_column(String(200))
    # 发证: how the paper certificate left the office — mailed (with the courier's tracking number) or
    # collected in person at the window — when and by whom.
    delivery: Mapped[str | None] = mapped_column(String(16))  # mailed | collected
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))

    @property
    def rendering(self) -> bool:
        """制证中: numbered at 缮证, its signed PDF not yet made."""
        return self.storage_key is None and self.page_enc is not None


class CertificateCounter(Base):
    """Last sequence number per office, year and certificate kind (gap-free except recorded 废号)."""

    __tablename__ = "certificate_counter"

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


def unit_for_code(session: Any, unit_code: str | None, *, all_tenants: bool = False,
                  cached_only: bool = False) -> RealtyUnit | None:
    """The unit with this code, looked up once per transaction (issue 18: a submission looked the same unit
    up four times: the rules, the consents, the fees). ``all_tenants`` searches outside the session's tenant
    scope (a unit's fees, a joint owner's share). A step that must lock the unit uses ``unit_by_code(lock=
    True)`` (app/registry/service.py), which reads it afresh."""
    from sqlalchemy import select

    from app.db import transaction_cache

    code = (unit_code or "").replace(" ", "")
    known = transaction_cache(session, "units_by_code")
    key = (code, all_tenants)
    if key in known:
        found: RealtyUnit = known[key]
        return found
    if cached_only:  # the caller reads it itself (app/registry/service.py unit_with_rights)
        return None
    stmt = select(RealtyUnit).where(RealtyUnit.unit_code == code)
    if all_tenants:
        stmt = stmt.execution_options(all_tenants=True)
    unit: RealtyUnit | None = session.execute(stmt).scalar_one_or_none()
    if unit is not None:  # a miss is not kept: the step may yet create the unit (首次登记)
        known[key] = unit
        scope = session.info.get("tenant_scope")
        if not all_tenants:
            known[(code, True)] = unit  # found in scope: found outside it too
        elif scope is None or unit.tenant_id in scope:  # found outside the scope, and it is in scope
            known[(code, False)] = unit
    return unit
