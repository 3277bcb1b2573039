"""The persisted state of one case's workflow instance (without the spec, which lives once per version)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class WorkflowState(Base):
    __tablename__ = "workflow_state"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), primary_key=True)
    process_version_id: Mapped[str] = mapped_column(ForeignKey("process_version.id"))
    state_json: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(default=False)
    # Optimistic lock: an UPDATE that finds another version raises StaleDataError → 409, so the same
    # task can never be completed twice (no double 登簿).
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}
