"""The platform's closed vocabularies: case and task statuses, stages, case event kinds, application channels,
and the statuses of appointments, change proposals, payments, outbox messages, tax cases, rights and
certificates.

StrEnum members compare equal to (and are stored as) their plain string values, so the database rows,
templates and JSON written before these types existed keep working unchanged. The Chinese labels of stages
and statuses stay in ``dictionaries/stages.yaml`` (read by ``app.casefile.status``); a unit test proves this
module and that file agree. Values that come from definitions (a BPMN task's ``stage`` property, a lane)
stay ``str`` and are compared with these members.
"""
from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """Values of ``Case.status`` (and ``CaseEvent.status``)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTING = "accepting"            # a 受理 task is open
    AWAITING_CHECK = "awaiting_check"  # at 受理, a department check still unanswered
    REVIEWING = "reviewing"            # 审核
    AWAITING_TAX = "awaiting_tax"      # 完税
    RECORDING = "recording"            # 登簿
    CERTIFYING = "certifying"          # 缮证
    CORRECTING = "correcting"          # 补正: back with the applicant
    PROCESSING = "processing"          # a task whose stage is not in stages.yaml
    VERIFYING = "verifying"            # 核实: a 差评's follow-up (app/feedback) is being verified
    CONTACTING = "contacting"          # 联系: the office leader contacts the applicant who rated
    RECTIFYING = "rectifying"          # 整改
    ANSWERING = "answering"            # 答复
    COMPLETED = "completed"            # end_registered
    REJECTED = "rejected"              # end_rejected (不予受理)
    REFUSED = "refused"                # end_refused (不予登记)
    WITHDRAWN = "withdrawn"            # end_withdrawn


class Stage(StrEnum):
    """Stages a user task carries (``spiffworkflow:properties/stage``); the values are the stored Chinese names."""

    ACCEPT = "受理"
    REVIEW = "审核"
    TAX = "完税"
    RECORD = "登簿"
    CERTIFY = "缮证"
    CORRECT = "补正"
    VERIFY = "核实"    # the 差评 follow-up's stages (processes/feedback_followup)
    CONTACT = "联系"
    RECTIFY = "整改"
    ANSWER = "答复"


class TaskStatus(StrEnum):
    """Values of ``Task.status``."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EventKind(StrEnum):
    """Values of ``CaseEvent.kind`` (the case's progress timeline)."""

    CREATED = "created"
    CONFIRMED = "confirmed"
    SUBMITTED = "submitted"
    RESUBMITTED = "resubmitted"
    STEP_COMPLETED = "step_completed"
    NOTICE = "notice"
    INVITED = "invited"
    CONSENTED = "consented"
    CONTENT_CHANGED = "content_changed"
    FIELDS_CORRECTED = "fields_corrected"
    CHANGE_PROPOSED = "change_proposed"
    CHANGE_DECIDED = "change_decided"
    PAID = "paid"
    TAX_PUSH_QUEUED = "tax_push_queued"
    TAX_PAID = "tax_paid"
    TAX_OVERDUE = "tax_overdue"
    VERIFICATION_PENDING = "verification_pending"
    VERIFICATION_COMPLETED = "verification_completed"
    VERSION_MIGRATED = "version_migrated"


class Channel(StrEnum):
    """Values of ``Case.channel``: how the application came in (statistics and a few rules)."""

    ONLINE = "online"
    WINDOW = "window"
    INSTITUTION = "institution"
    COURT = "court"
    # A case the platform opens for itself (a 差评's follow-up, app/feedback): no applicant's application, left
    # out of the applicants' lists and of the application statistics.
    INTERNAL = "internal"


class RatingChannel(StrEnum):
    """Values of ``Rating.channel`` (app/feedback): where a 好差评 was given."""

    PORTAL = "portal"  # the case page or the appointments page
    SMS = "sms"        # the signed link texted once the service ended
    API = "api"        # the REST API (apps)


class AppointmentStatus(StrEnum):
    """Values of ``Appointment.status`` (a booked window visit)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"  # the applicant came: the visit became a window case


class ProposalStatus(StrEnum):
    """Values of ``ChangeProposal.status``: a co-applicant's proposed change, decided by the creator."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class PaymentStatus(StrEnum):
    """Values of ``Payment.status``: an order on the payment gateway."""

    PENDING = "pending"
    PAID = "paid"


class OutboxStatus(StrEnum):
    """Values of ``OutboxMessage.status`` and ``OutboxDelivery.status``."""

    PENDING = "pending"  # to be delivered (again)
    SENT = "sent"
    DEAD = "dead"        # retries exhausted: waits for an operator


class TaxStatus(StrEnum):
    """Values of ``TaxCase.status``: the case's hand-off to 税务 and its 完税."""

    PENDING = "pending"  # not pushed yet (税务 unavailable: queued in the outbox)
    PUSHED = "pushed"
    REFUSED = "refused"  # 税务 did not accept the push
    PAID = "paid"


class RightStatus(StrEnum):
    """Values of ``Right.status`` in the register book."""

    CURRENT = "current"
    HISTORY = "history"  # ended by a later registration (or lapsed)


class CertificateStatus(StrEnum):
    """Values of ``Certificate.status``."""

    VALID = "valid"
    REVOKED = "revoked"  # 注销: the right it proves has ended
    VOIDED = "voided"    # 作废: withdrawn (misprint, lost …)


# Case statuses in which the applicant may still edit the application (materials, parties, form).
EDITABLE_STATUSES = frozenset({CaseStatus.DRAFT, CaseStatus.CORRECTING})
# Terminal statuses: the process reached an end event.
FINAL_STATUSES = frozenset({CaseStatus.COMPLETED, CaseStatus.REJECTED, CaseStatus.REFUSED, CaseStatus.WITHDRAWN})
