"""People, offices and what they may do."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin, UTCDateTime
from app.security.fields import EncryptedField


class Tenant(Base):
    """A registration office. District offices own cases; the city level (parent) sees all of them."""

    __tablename__ = "tenant"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)  # GB/T 2260 division code
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))  # city | district
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("tenant.code"))
    province_abbr: Mapped[str] = mapped_column(String(4), default="浙")  # 证书号 prefix, e.g. 浙
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class OrgUnit(IdMixin, Base):
    """The organisation tree: the registration centre (city tenant) → district offices (the district
    tenants) → sections (科室) inside an office. Staff belong to a section; tenancy stays on the user."""

    __tablename__ = "org_unit"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # centre | district | section
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenant.code"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Institution(IdMixin, TimestampMixin, Base):
    """An organisation that files in volume — a bank, a developer, an agency, a court, a collective. Its
    accounts (branches, officers, its administrator) belong to it and act in its name; the platform's
    operators supervise it and may close its port (停用端口: no new filings) for irregular or dishonest
    filing (guide 三.6), with the reason kept here and every change in the audit chain."""

    __tablename__ = "institution"

    name: Mapped[str] = mapped_column(String(128))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)  # 统一社会信用代码 (checked)
    institution_type: Mapped[str] = mapped_column(String(16))  # bank | developer | agent | court | collective
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenant.code"), index=True)  # home district, if any
    port_open: Mapped[bool] = mapped_column(Boolean, default=True)
    port_reason: Mapped[str | None] = mapped_column(String(500))  # why it was last closed or reopened
    port_changed_by: Mapped[str | None] = mapped_column(String(32))  # app_user.id of the operator
    port_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Role(Base):
    __tablename__ = "role"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))  # public | tenant | city
    category: Mapped[str] = mapped_column(String(16), default="business")  # business | management | external
    # Set when an operator edits the role on /admin/roles: `flask setup` then leaves it as the operator made it
    # instead of resetting it to dictionaries/roles.yaml.
    customised: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)


class UserRole(Base):
    __tablename__ = "user_role"

    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("role.code"), primary_key=True)
    # Loaded with the link (one JOIN): the actor's permissions need every role, and a query per request for
    # them was a third of authenticating one (issue 18). Read-only: a link is made by its role_code.
    role: Mapped[Role] = relationship(lazy="joined", viewonly=True)


class User(IdMixin, TimestampMixin, Base):
    """Staff, applicants and institution accounts. Identity fields are encrypted; the blind index finds
    a person by exact ID number without decrypting every row."""

    __tablename__ = "app_user"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(16))  # staff | applicant | institution
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenant.code"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How the identity was established: identity (公安 name + ID number), face (公安 + face check),
    # organisation (市场监管 licence), registered (entered by staff / demo data).
    verification_level: Mapped[str | None] = mapped_column(String(16))
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # 用户须知, at sign-up
    real_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str | None] = mapped_column(String(32), index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_bidx: Mapped[str | None] = mapped_column(String(32), index=True)

    real_name = EncryptedField("real_name_enc")
    id_number = EncryptedField("id_number_enc", index="id_number_bidx")
    # Operations: the section a staff member works in, the key of the government platform's directory
    # (user sync), the kind of an institution account, and sign-in protection (lockout, TOTP).
    org_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    institution_type: Mapped[str | None] = mapped_column(String(16))  # bank | developer | agent | court
    # The organisation an institution account acts for (its administrator manages the accounts that share it).
    institution_id: Mapped[str | None] = mapped_column(ForeignKey("institution.id"), index=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Every page session and API token carries this number; bumping it (logout, password change, disabling)
    # revokes all of them at once, in every process.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    phone = EncryptedField("phone_enc", index="phone_bidx")
    totp_secret = EncryptedField("totp_secret_enc")

    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_codes(self) -> list[str]:
        return sorted(r.role_code for r in self.roles)


class SmsCode(IdMixin, Base):
    """A one-time sign-in code sent by SMS: only its hash is kept, it expires and allows a few attempts.
    The phone is kept only as its blind index (enough to find the code again)."""

    __tablename__ = "sms_code"

    phone_bidx: Mapped[str] = mapped_column(String(32), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # login
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
