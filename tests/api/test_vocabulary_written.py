"""Every status, stage, event kind and channel a case's life writes is a member of app/vocabulary.py's enums (the
statuses of its tax case, rights, certificates, outbox messages and payments too):
whatever the seeded database holds plus a transfer sent back for 补正, resubmitted and taken to 缮证."""
from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select
from support.cases import complete_stage, take_through
from support.forms import PDF

from app.casefile.models import Appointment, Case, CaseEvent, ChangeProposal, Payment, Task
from app.integrations.models import OutboxDelivery, OutboxMessage
from app.integrations.verification_models import TaxCase
from app.registry.models import Certificate, Right
from app.vocabulary import (
    AppointmentStatus,
    CaseStatus,
    CertificateStatus,
    Channel,
    EventKind,
    OutboxStatus,
    PaymentStatus,
    ProposalStatus,
    RightStatus,
    Stage,
    TaskStatus,
    TaxStatus,
)


def _distinct(db: Any, column: Any) -> set[str]:
    with db.unit_of_work() as session:
        return {v for v in session.execute(select(column).distinct()).scalars() if v is not None}


def test_a_case_life_writes_only_known_statuses_stages_kinds_and_channels(db: Any, login: Any,
                                                                          submitted_transfer: dict) -> None:
    business_no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    assert complete_stage(login("xh_acceptor"), business_no, "受理").status_code == 200
    resp = complete_stage(login("xh_reviewer"), business_no, "审核", "correct", correction_items=["请补充完税凭证"])
    assert resp.get_json()["case_status"] == CaseStatus.CORRECTING
    seller = login("zhangsan")
    upload = seller.post(f"/api/v1/applications/{case_id}/materials",
                         data={"code": "tax_voucher", "file": (io.BytesIO(PDF), "tax.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 201, upload.get_json()
    for party in (seller, login("lisi")):
        assert party.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    assert seller.post(f"/api/v1/applications/{case_id}/submit").status_code == 200
    assert take_through(login, business_no).get_json()["case_status"] == CaseStatus.COMPLETED

    kinds = _distinct(db, CaseEvent.kind)
    assert {EventKind.CREATED, EventKind.SUBMITTED, EventKind.STEP_COMPLETED, EventKind.RESUBMITTED} <= kinds
    assert kinds <= set(EventKind)
    assert _distinct(db, Case.status) <= set(CaseStatus)
    assert _distinct(db, CaseEvent.status) <= set(CaseStatus)
    assert _distinct(db, Case.channel) <= set(Channel)
    assert TaskStatus.COMPLETED in _distinct(db, Task.status) <= set(TaskStatus)
    assert {Stage.ACCEPT, Stage.REVIEW, Stage.CORRECT} <= _distinct(db, Task.stage) <= set(Stage)
    assert _distinct(db, CaseEvent.stage) <= set(Stage)
    for column, enum in ((Appointment.status, AppointmentStatus), (ChangeProposal.status, ProposalStatus),
                         (Payment.status, PaymentStatus), (OutboxMessage.status, OutboxStatus),
                         (OutboxDelivery.status, OutboxStatus), (TaxCase.status, TaxStatus),
                         (Right.status, RightStatus), (Certificate.status, CertificateStatus)):
        assert _distinct(db, column) <= set(enum), column
    assert TaxStatus.PAID in _distinct(db, TaxCase.status)
    assert {RightStatus.CURRENT, RightStatus.HISTORY} <= _distinct(db, Right.status)  # the seller's title ended
    assert CertificateStatus.VALID in _distinct(db, Certificate.status)
