"""Tables of link navigation (national) and definition packages (province publishes, city adopts or overrides).

Kept apart from app/federation/models.py (the trust store) so each part of issue 20 owns its own rows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UTCDateTime, utcnow


class Navigation(IdMixin, Base):
    """One 去办理 at the national entrance: who (the applicant account here), which business type, to which
    city or county (and the province platform that passes it on), when. Its id is the navigation reference the
    signed assertion carries down, so progress coming back can name it."""

    __tablename__ = "federation_navigation"

    user_id: Mapped[str] = mapped_column(String(32), index=True)
    business_type_code: Mapped[str] = mapped_column(String(64))
    business_type_name: Mapped[str] = mapped_column(String(128))
    target_code: Mapped[str] = mapped_column(String(6))  # the city or county chosen (or told by the unit code)
    province_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    unit_code: Mapped[str | None] = mapped_column(String(28))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DefinitionPackage(IdMixin, Base):
    """A business type's definition as the province published it: the canonical package text (the files of
    the type, base64) and the province's Ed25519 signature over it. Immutable once made."""

    __tablename__ = "definition_package"
    __table_args__ = (UniqueConstraint("business_type_code", "version"),)

    business_type_code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the province's process version number of the type
    content_sha256: Mapped[str] = mapped_column(String(64))  # the type's content hash (app/catalog)
    package_sha256: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical package text
    package: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly the bytes signed
    signature: Mapped[str] = mapped_column(String(128))
    published_by: Mapped[str | None] = mapped_column(String(32))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DefinitionAdoption(IdMixin, Base):
    """A city installed a province's package as a version of its type: where it came from (province, package
    version, sha256) and the process version it became."""

    __tablename__ = "definition_adoption"

    business_type_code: Mapped[str] = mapped_column(String(64), index=True)
    province_code: Mapped[str] = mapped_column(String(6))
    package_version: Mapped[int] = mapped_column(Integer)
    package_sha256: Mapped[str] = mapped_column(String(64))
    process_version_id: Mapped[str] = mapped_column(String(32))
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    adopted_by: Mapped[str | None] = mapped_column(String(32))
    adopted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DefinitionOverride(Base):
    """A city keeps its own version of a type (本地覆盖): the province's packages are not adopted over it
    unless forced."""

    __tablename__ = "definition_override"

    business_type_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    marked_by: Mapped[str | None] = mapped_column(String(32))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
