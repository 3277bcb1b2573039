"""The persisted state of one case's workflow instance (without the spec, which lives once per version), and
the holiday plans operators entered for the working-day calendar."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.engine.workdays import YearSchedule


class WorkflowState(Base):
    __tablename__ = "workflow_state"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), primary_key=True)
    process_version_id: Mapped[str] = mapped_column(ForeignKey("process_version.id"))
    # zlib-compressed JSON behind a format byte, read and written only by app/engine/state_format.py.
    state: Mapped[bytes] = mapped_column(LargeBinary)
    completed: Mapped[bool] = mapped_column(default=False)
    # Optimistic lock: an UPDATE that finds another version raises StaleDataError → 409, so the same
    # task can never be completed twice (no double 登簿).
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class WorkdaySchedule(Base):
    """A year's official holiday plan (放假调休安排) as an operator entered it from the State Council notice;
    it wins over the shipped ``dictionaries/workday_overrides.yaml`` and makes the year's deadlines final."""

    __tablename__ = "workday_schedule"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates off besides weekends
    workdays: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO make-up working days (调休上班)
    source: Mapped[str] = mapped_column(String(200))  # the notice it was copied from
    entered_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def as_schedule(self) -> YearSchedule:
        from app.engine.workdays import YearSchedule

        return YearSchedule(frozenset(date.fromisoformat(d) for d in self.holidays or []),
                            frozenset(date.fromisoformat(d) for d in self.workdays or []))
