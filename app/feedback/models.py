"""A rating (评价) of one service by one person, and the signed SMS link that asks for it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TenantScoped, UTCDateTime, utcnow
from app.security.fields import EncryptedField


class Rating(IdMixin, TenantScoped, Base):
    """One person's rating of one service: ``subject_key`` is ``case:<id>`` or ``appointment:<id>``; the unique
    key makes "one rating per case and party" hold even for two submissions at the same moment. The
    dimensions of the statistics (office = tenant, type, stage, clerk, month of ``created_at``) are kept on
    the row as they were when the service ended."""

    __tablename__ = "feedback_rating"
    __table_args__ = (UniqueConstraint("subject_key", "rater_id"),
                      Index("ix_feedback_rating_stats", "tenant_id", "created_at"))

    subject_key: Mapped[str] = mapped_column(String(48))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(32))  # the business number, or the appointment code
    business_type_code: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))  # 办结 / 不予受理 / 不予登记 / 撤回 / 窗口服务
    clerk_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    rater_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    level: Mapped[int] = mapped_column(Integer)  # app/feedback/scale.py: 5 非常满意 … 1 非常不满意
    comment_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # free text may name people
    channel: Mapped[str] = mapped_column(String(8))  # portal | sms | api
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A 差评's follow-up: a case of the internal type feedback_followup (its 答复 is the answer shown).
    follow_up_case_id: Mapped[str | None] = mapped_column(ForeignKey("reg_case.id"), index=True)
    # The rater was texted that the follow-up was answered (app/feedback/answer_notice.py): once only.
    answer_texted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    comment = EncryptedField("comment_enc")


class RatingLink(IdMixin, TenantScoped, Base):
    """The SMS asking one person to rate one service: the signed link names this row, works until it is
    used once (``used_at``) or expires."""

    __tablename__ = "feedback_link"
    __table_args__ = (UniqueConstraint("subject_key", "rater_id"),)

    subject_key: Mapped[str] = mapped_column(String(48))
    rater_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
