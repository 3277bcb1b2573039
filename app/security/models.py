"""The audit log: who did what to which object, when, with before/after. Entries are hash-chained
(each carries the hash of the previous one) so a removed or edited line is detectable.

Read accesses (a material viewed, a register query) go to the separate, unchained access log: a page view
must not queue behind the audit chain's head row (see app/security/audit.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, HexDigest, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(12), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # None is stored as SQL NULL, not the JSON text ``null`` (issue 18: most entries have no ``before``).
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # 32 bytes in the database, hex in Python (HexDigest): sha256 of the previous entry's hash (hex) and this
    # entry's fields. The previous hash is the previous entry's own column (or the head's anchor), not stored
    # again here (issue 18); verify_chain recomputes every link from it.
    hash: Mapped[str] = mapped_column(HexDigest())


class AuditHead(Base):
    """Single row locked (FOR UPDATE) by every appender as its transaction commits (app/security/audit.py), so
    concurrent transactions extend one chain instead of forking it. The anchor is where the kept chain starts
    after retention purged its oldest entries: the last purged entry's seq and hash, so ``verify_chain`` still
    checks every kept link."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    hash: Mapped[str] = mapped_column(String(64))
    anchor_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    anchor_hash: Mapped[str] = mapped_column(String(64), default="0" * 64)


class RateEvent(Base):
    """One counted action (e.g. a code sent to a phone / from an address) for the database-backed rate
    limiter: every process sees the same counts. ``key`` never holds personal data in clear (a blind index)."""

    __tablename__ = "rate_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(96))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_rate_event_key_at", "key", "at"),)


class AccessEntry(Base):
    """A read access: who looked at what (no state changed). Append-only, not chained: appenders never wait
    for each other; queried with the audit trail through ``audit.access_entries``."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_object", "object_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(12), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
