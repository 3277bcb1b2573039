"""The ferry's bookkeeping (docs/ferry.md). On the extranet: the export packages written (``ferry_package``) and
the offline return files accepted (``ferry_return_received``). On the intranet (its own database): the packages
imported (``ferry_import``), the copy of the register they built (``ferry_copy_entry``, ``ferry_copy_right``),
the spatial-review results waiting to go back (``ferry_review``) and the return files written
(``ferry_return_file``). Both zones run the same schema; each uses its own half."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UTCDateTime, utcnow
from app.security.fields import EncryptedField


class FerryPackage(Base):
    """An export package this (extranet) platform wrote: its sequence number, the checkpoint it ends at, the
    SHA-256 of the file's bytes (the next package names it as ``prev``) and whether the file has been moved
    into the outbox directory yet (written as a temporary file, renamed after the row committed)."""

    __tablename__ = "ferry_package"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    checkpoint_seq: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    business_nos: Mapped[list[str]] = mapped_column(JSON, default=list)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FerryReturnReceived(Base):
    """An offline return file (光盘摆渡) the extranet accepted: its sequence number and nonce can never be
    accepted again (the primary key and the unique nonce refuse a replayed copy even when two arrive at once)."""

    __tablename__ = "ferry_return_received"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    results: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FerryImport(Base):
    """A package the intranet imported, in sequence: the file's SHA-256 (the next package must name it) and the
    signed checkpoint it ends at (what ``flask ferry verify`` checks the copy against)."""

    __tablename__ = "ferry_import"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    checkpoint_seq: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON)
    entries: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FerryCopyEntry(Base):
    """The intranet copy of one register entry, exactly as exported (its hash chain is checked again by
    ``verify``). Holders appear by blind index only, as in the book."""

    __tablename__ = "ferry_copy_entry"

    unit_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    business_no: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[str] = mapped_column(String(40))  # the ISO text the chain hashed
    change: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class FerryCopyRight(Base):
    """A right of the intranet copy, derived by replaying the entries: current until an entry ends it."""

    __tablename__ = "ferry_copy_right"

    right_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(40), index=True)
    right_type: Mapped[str] = mapped_column(String(32))
    holders: Mapped[list[str | None]] = mapped_column(JSON, default=list)
    business_no: Mapped[str] = mapped_column(String(32))
    current: Mapped[bool] = mapped_column(Boolean, default=True)


class FerryReview(IdMixin, Base):
    """A spatial-review result made in the intranet, waiting for the next return file (``return_seq`` None). The
    remarks are free text that may name a person or an address: encrypted, row-bound."""

    __tablename__ = "ferry_review"

    business_no: Mapped[str] = mapped_column(String(32), index=True)
    unit_code: Mapped[str | None] = mapped_column(String(40))
    passed: Mapped[bool] = mapped_column(Boolean)
    remarks_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    reviewer: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    return_seq: Mapped[int | None] = mapped_column(Integer, index=True)

    remarks = EncryptedField("remarks_enc")


class FerryReturnFile(Base):
    """A return file the intranet wrote: its sequence number and nonce (the extranet refuses either seen twice)."""

    __tablename__ = "ferry_return_file"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(64))
    results: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
