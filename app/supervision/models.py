"""The exception log: one row per unhandled error, for operators. It records where the error happened
(request line, endpoint, the code frames) and who was signed in — never the exception's message or local
values, which may quote personal data from the request."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, UTCDateTime, utcnow


class ExceptionLog(IdMixin, Base):
    __tablename__ = "exception_log"

    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    exc_type: Mapped[str] = mapped_column(String(128), index=True)
    method: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(String(300))
    endpoint: Mapped[str | None] = mapped_column(String(128))
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(12))
    business_no: Mapped[str | None] = mapped_column(String(32), index=True)
    # Same code path → same fingerprint, so repeats group together: sha256 of the frames below.
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    frames: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # file, line, function
