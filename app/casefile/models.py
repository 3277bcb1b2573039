"""An application (申请/案件) and everything hanging off it: parties, materials, the clerk inbox, the
progress timeline and the gap-free business-number counters."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TenantScoped, UTCDateTime, utcnow
from app.security.fields import EncryptedField, decrypt_json, encrypt_json
from app.vocabulary import AppointmentStatus, CaseStatus, Channel, PaymentStatus, ProposalStatus, TaskStatus

if TYPE_CHECKING:
    from app.identity.models import Tenant


class Case(IdMixin, TenantScoped, Base):
    __tablename__ = "reg_case"

    business_type_code: Mapped[str] = mapped_column(ForeignKey("business_type.code"), index=True)
    process_version_id: Mapped[str] = mapped_column(ForeignKey("process_version.id"), index=True)
    business_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.DRAFT, index=True)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.ONLINE)  # app.vocabulary.Channel
    applicant_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    # Filed by an agent institution (the applicant_id) for its client under this 授权委托书 (app/cases/attorney.py)
    power_of_attorney_id: Mapped[str | None] = mapped_column(ForeignKey("power_of_attorney.id"), index=True)
    unit_code: Mapped[str | None] = mapped_column(String(28), index=True)
    form_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Fields of the form that are not personal data (unit code, price, contract no …): readable for
    # lists, rules and gateway conditions without decrypting.
    form_public: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    correction_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Computed fee items (fees.py) and the last registration-rule results (rules.py), kept with the case so
    # the clerk sees what was charged and checked, and why.
    fee_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Stored packed (standard passing texts left out): read through app.registry.rule_results.unpack.
    rule_results: Mapped[dict[str, Any] | list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The signed content's digest (app/casefile/consent.py) the 申请书 is still to be made for: set by the last
    # signature, cleared by the job that renders and signs it after the commit (app/cases/application_form.py).
    application_form_due: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When 受理 accepted it (the latest acceptance after any 补正): mortgage rank follows it (细则 67, R10).
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The seq of the case's last progress event (app/casefile/progress.py): the next event takes it + 1, and the
    # step's own UPDATE of the case carries the new number (no max(seq) read per event, issue 18).
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # 询问笔录: the applicant's answers to the type's inquiry questions (business.yaml ``inquiry``), encrypted
    # like the form since free-text answers may name people.
    inquiry_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    inquiry_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 领证方式: ``postal`` (mailed to the address) or ``hall`` (collected at the office); None: not chosen yet.
    delivery_method: Mapped[str | None] = mapped_column(String(16))
    # Where the application began when another platform sent it (issue 20): that platform's code and its
    # reference (an application forwarded from above, or the national entrance's link navigation that brought the
    # applicant here). Every progress report carries them up, so the level it began at shows the progress.
    origin_code: Mapped[str | None] = mapped_column(String(6))
    origin_ref: Mapped[str | None] = mapped_column(String(64))
    delivery_address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    delivery_address = EncryptedField("delivery_address_enc")

    parties: Mapped[list[Party]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                order_by="Party.position")
    materials: Mapped[list[Material]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                     order_by="Material.created_at")
    # Read with the case by the steps that check the rules (issue 18); written as rows of their own
    # (app/cases/consents.py), so read through app.registry.rules.consents_of, which sees unwritten ones.
    consents: Mapped[list[Consent]] = relationship(viewonly=True, order_by="Consent.created_at")
    # The office the case belongs to, read with the case (app/casefile/access.py get_case): a submission checks
    # that it is open, a 申请书 is headed with its name.
    office: Mapped[Tenant] = relationship("Tenant", primaryjoin="foreign(Case.tenant_id) == Tenant.code",
                                          viewonly=True)

    @property
    def form_data(self) -> dict[str, Any]:
        return decrypt_json(self.form_enc, f"reg_case:form:{self.ensure_id()}") if self.form_enc else {}

    @form_data.setter
    def form_data(self, value: dict[str, Any]) -> None:
        self.form_enc = encrypt_json(value, f"reg_case:form:{self.ensure_id()}")

    @property
    def inquiry_answers(self) -> dict[str, Any]:
        return decrypt_json(self.inquiry_enc, f"reg_case:inquiry:{self.ensure_id()}") if self.inquiry_enc else {}

    @inquiry_answers.setter
    def inquiry_answers(self, value: dict[str, Any]) -> None:
        self.inquiry_enc = encrypt_json(value, f"reg_case:inquiry:{self.ensure_id()}")


class Party(IdMixin, TenantScoped, Base):
    """An applicant of the case in one role (seller, buyer, mortgagor …), identified by the form."""

    __tablename__ = "party"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # person | org
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str | None] = mapped_column(String(32), index=True)
    # A member of a ``multiple`` role filled from the register (app/registry/co_ownership.py): the holder's
    # 共有份额 and 共有方式 there; None for a party typed into the form.
    share: Mapped[str | None] = mapped_column(String(16))
    share_mode: Mapped[str | None] = mapped_column(String(16))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    # 人脸核验 then 电子签名 (app/cases/signing.py): the signature image is a case document (a Material with
    # code ``signature``); its hash is here and in the audit log.
    face_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    face_score: Mapped[float | None] = mapped_column(Float)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signature_kind: Mapped[str | None] = mapped_column(String(16))  # drawn | typed | account
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    signature_material_id: Mapped[str | None] = mapped_column(String(32))
    # What the signature covers (app/casefile/consent.py): the digest of the form, the parties' identities, the
    # unit and the materials when the party signed. A change of any of them voids the confirmation
    # (``confirmation_voided_at``: the party must sign again).
    signed_content_sha256: Mapped[str | None] = mapped_column(String(64))
    confirmation_voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    name = EncryptedField("name_enc")
    id_number = EncryptedField("id_number_enc", index="id_number_bidx")

    case: Mapped[Case] = relationship(back_populates="parties")


class Material(IdMixin, TenantScoped, Base):
    __tablename__ = "material"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    filename_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # file names often carry names
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(128))
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    filename = EncryptedField("filename_enc")
    case: Mapped[Case] = relationship(back_populates="materials")


class Consent(IdMixin, TenantScoped, Base):
    """A consent to this case given by the holder of a right on the unit (预告权利人, 抵押权人): online by
    the consenter's own verified account, or on paper, checked by the 受理 clerk who records whose consent
    it is. Rules (app/registry/rules.py) count it only while its consenter holds ``right_id`` in the book."""

    __tablename__ = "consent"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    right_id: Mapped[str] = mapped_column(ForeignKey("realty_right.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # online | paper
    consenter_kind: Mapped[str] = mapped_column(String(16))  # person | org
    consenter_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    consenter_id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    consenter_bidx: Mapped[str] = mapped_column(String(32), index=True)
    consenter_user_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))  # online: the account
    # paper: the checked consent document; online person: the signature image (both case materials)
    material_id: Mapped[str | None] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    consenter_name = EncryptedField("consenter_name_enc")
    consenter_id_number = EncryptedField("consenter_id_enc", index="consenter_bidx")


class Task(IdMixin, TenantScoped, Base):
    """A READY user task mirrored out of the workflow so inboxes are one indexed query."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_inbox", "tenant_id", "role", "status", "due_at"),
        Index("ix_task_assignee", "assignee_id", "status"),
        Index("ix_task_done", "completed_by", "completed_at"),  # the 已办 tab
        # Partial indexes in the order the open tabs sort (due date, then id), so a page is an index range
        # read however many finished tasks the table holds: 待领 (unclaimed, per office and role), 待办
        # (mine) and a team leader's 全部 (every open task of the office).
        Index("ix_task_claimable", "tenant_id", "role", "due_at", "id",
              postgresql_where=text("status = 'open' AND assignee_id IS NULL"),
              sqlite_where=text("status = 'open' AND assignee_id IS NULL")),
        Index("ix_task_office_open", "tenant_id", "due_at", "id", postgresql_where=text("status = 'open'"),
              sqlite_where=text("status = 'open'")),
        Index("ix_task_mine", "assignee_id", "due_at", "id", postgresql_where=text("status = 'open'"),
              sqlite_where=text("status = 'open'")),
        # A case's tasks by status. With only (case_id), filters that narrow the inbox to a few cases (applicant
        # ID, business number) were planned as a BitmapAnd with a tab's partial index, whose scan grows with
        # the office's open tasks (59 ms at 1M cases, bench/inbox.py); with the status in the key it is one
        # index lookup per case.
        Index("ix_task_case_status", "case_id", "status"),
        UniqueConstraint("case_id", "spiff_task_id"),
    )

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(64))  # BPMN element id
    title: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(32))
    form_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)  # app.vocabulary.TaskStatus
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[date | None] = mapped_column(Date)
    # What due_at was counted from (dueDays working days after due_from), so an entered holiday plan can
    # recount open tasks exactly.
    due_from: Mapped[date | None] = mapped_column(Date)
    due_days: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    decision: Mapped[str | None] = mapped_column(String(16))
    opinion: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseEvent(TenantScoped, Base):
    """One line of the progress timeline. Carries no personal data: it is shown and pushed widely. Identified
    by its case and its number in the case (no id of its own: issue 18, stored bytes per case)."""

    __tablename__ = "case_event"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    actor_role: Mapped[str | None] = mapped_column(String(32))
    # NULL: the standard text of its kind/stage/decision (app/casefile/event_messages.py: read with message_of).
    message: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BusinessNumberCounter(Base):
    """Last business number handed out per office and year. Incremented inside the submitting
    transaction (row lock on PostgreSQL, the database lock on SQLite), so numbers are gap-free."""

    __tablename__ = "business_number_counter"

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class AppointmentSlot(Base):
    """Bookings taken in one half-day at one office; the row is locked while a booking counts against the
    capacity, so a full slot refuses cleanly however many people book at once."""

    __tablename__ = "appointment_slot"

    tenant_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    half: Mapped[str] = mapped_column(String(2), primary_key=True)  # am | pm
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Appointment(IdMixin, TenantScoped, Base):
    """预约: a half-day at a district office for one business type; the code is shown at the window."""

    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_day", "tenant_id", "day", "half", "status"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    business_type_code: Mapped[str] = mapped_column(ForeignKey("business_type.code"))
    day: Mapped[date] = mapped_column(Date)
    half: Mapped[str] = mapped_column(String(2))
    code: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.BOOKED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    case_id: Mapped[str | None] = mapped_column(ForeignKey("reg_case.id"))  # the window case it became


class Invitation(IdMixin, TenantScoped, Base):
    """An applicant's invitation to another party of the case, sent by SMS with a signed link. The phone is
    kept encrypted (to resend) with its blind index; the link opens the case only for the named party."""

    __tablename__ = "invitation"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    party_role: Mapped[str] = mapped_column(String(32))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_bidx: Mapped[str | None] = mapped_column(String(32), index=True)
    invited_by: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))

    phone = EncryptedField("phone_enc", index="phone_bidx")


class ChangeProposal(IdMixin, TenantScoped, Base):
    """修改建议: a co-applicant who may not edit the application proposes changed fields; the creator accepts
    (the change is then made in his name and voids the confirmations like any edit) or declines. The proposed
    values may be personal data: encrypted like the form."""

    __tablename__ = "change_proposal"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    party_role: Mapped[str] = mapped_column(String(32))
    proposed_by: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    changes_enc: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))

    @property
    def changes(self) -> dict[str, Any]:
        return decrypt_json(self.changes_enc, f"change_proposal:changes:{self.ensure_id()}")

    @changes.setter
    def changes(self, value: dict[str, Any]) -> None:
        self.changes_enc = encrypt_json(value, f"change_proposal:changes:{self.ensure_id()}")


class Payment(IdMixin, TenantScoped, Base):
    """One payment order for a case's fees (and taxes where collected together, 统缴), paid on the payment
    gateway's page; the gateway's signed callback marks it paid (idempotent). The receipt (电子票据) is
    rendered from this row on request."""

    __tablename__ = "payment"

    case_id: Mapped[str] = mapped_column(ForeignKey("reg_case.id", ondelete="CASCADE"), index=True)
    order_no: Mapped[str] = mapped_column(String(40), unique=True)
    amount_yuan: Mapped[str] = mapped_column(String(20))  # decimal text: tax amounts carry fen
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.PENDING)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receipt_no: Mapped[str | None] = mapped_column(String(40))


from app.casefile import attorney_models as _attorney_models  # noqa: E402,F401  (reg_case's FK names its table)
