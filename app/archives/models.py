"""The electronic archive (电子档案): one signed, time-stamped package per ended case, its files' fixity,
the blind-index rows that find it by holder, and the consultations (调阅) of it.

The package itself (the DA/T 48 EEP XML, app/archives/eep.py) lives in the file storage, sealed per tenant
like every material; the rows here hold what is searched, shown and re-checked: 档号, 类别, 保管期限, counts,
the package's and each file's SHA-256, the last fixity check and the export receipts.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.db import Base, IdMixin, TenantScoped, UTCDateTime, utcnow
from app.errors import Conflict


class ArchivePackage(IdMixin, TenantScoped, Base):
    __tablename__ = "archive_package"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id"), unique=True)  # one package per case
    archive_no: Mapped[str] = mapped_column(String(64), unique=True)  # 档号
    business_no: Mapped[str] = mapped_column(String(32), index=True)
    unit_code: Mapped[str | None] = mapped_column(String(28), index=True)
    business_type_code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))  # 题名
    category: Mapped[str] = mapped_column(String(32))  # 类别 (app/archives/classes.py)
    retention: Mapped[str] = mapped_column(String(8))  # 保管期限: 永久 | 30年 | 10年
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: permanent
    outcome: Mapped[str] = mapped_column(String(16))  # the case status it ended with
    item_count: Mapped[int] = mapped_column(Integer)  # 件数 (documents in the package)
    page_count: Mapped[int] = mapped_column(Integer)  # 页数
    storage_key: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored EEP XML
    signed_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical 被签名对象 (signed, stamped)
    stamped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    fixity_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    fixity_ok: Mapped[bool | None] = mapped_column()
    fixity_problem: Mapped[str | None] = mapped_column(String(500))
    exported_dir_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    exported_http_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    export_receipt: Mapped[str | None] = mapped_column(String(64))  # the receiving archive's acknowledgement

    files: Mapped[list[ArchiveFile]] = relationship(back_populates="package", order_by="ArchiveFile.seq")


class ArchiveFile(IdMixin, TenantScoped, Base):
    """One document of a package, with the SHA-256 its content had when archived (fixity)."""

    __tablename__ = "archive_file"
    __table_args__ = (UniqueConstraint("package_id", "seq"),)

    package_id: Mapped[str] = mapped_column(ForeignKey("archive_package.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # material | notice | certificate | register | history …
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))

    package: Mapped[ArchivePackage] = relationship(back_populates="files")


class ArchiveHolder(TenantScoped, Base):
    """The blind indexes (app/security/fields.py) of the parties and holders a package names: search by ID
    number is an exact match on these, never a scan of decrypted text."""

    __tablename__ = "archive_holder"

    package_id: Mapped[str] = mapped_column(ForeignKey("archive_package.id"), primary_key=True)
    bidx: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class ArchiveConsultation(IdMixin, TenantScoped, Base):
    """调阅: who opened which package, for what purpose, until when (the view and file downloads check it)."""

    __tablename__ = "archive_consultation"

    package_id: Mapped[str] = mapped_column(ForeignKey("archive_package.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


@event.listens_for(Session, "before_flush")
def _nothing_deleted_before_its_term(session: Session, _context: object, _instances: object) -> None:
    """保管期限: a package (or one of its files) is never deleted before its term ends; a permanent one never."""
    now = utcnow()
    for obj in session.deleted:
        package = obj if isinstance(obj, ArchivePackage) else obj.package if isinstance(obj, ArchiveFile) else None
        if package is not None and (package.retain_until is None or package.retain_until > now):
            raise Conflict(f"档案 {package.archive_no} 的保管期限（{package.retention}）未满，不得删除",
                           code="archive_retained")
