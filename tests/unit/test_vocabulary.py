"""The StrEnums of app/vocabulary.py agree with dictionaries/stages.yaml and with the columns they type, and app/
compares and writes statuses, stages, event kinds and channels through them rather than through string literals."""
from __future__ import annotations

import re

import yaml

from app.casefile.models import Appointment, ChangeProposal, Payment
from app.casefile.status import stage_codes, status_for_outcome, status_for_stage, status_label
from app.config import ROOT
from app.integrations.models import OutboxDelivery, OutboxMessage
from app.integrations.verification_models import TaxCase
from app.registry.models import Certificate, Right
from app.vocabulary import (
    FINAL_STATUSES,
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

STAGES_YAML = yaml.safe_load((ROOT / "dictionaries" / "stages.yaml").read_text(encoding="utf-8"))


def test_the_stages_are_those_of_the_yaml_and_each_maps_to_a_known_status() -> None:
    assert set(stage_codes()) == {s.value for s in Stage}
    for entry in STAGES_YAML["stages"]:
        assert status_for_stage(entry["code"]) == CaseStatus(entry["status"])
        assert isinstance(status_for_stage(entry["code"]), CaseStatus)


def test_the_outcomes_are_the_final_statuses() -> None:
    assert {CaseStatus(o["status"]) for o in STAGES_YAML["outcomes"].values()} == FINAL_STATUSES
    for end_event, outcome in STAGES_YAML["outcomes"].items():
        assert status_for_outcome(end_event) == CaseStatus(outcome["status"])


def test_every_case_status_but_the_fallback_has_a_chinese_label() -> None:
    unlabelled = [s for s in CaseStatus if status_label(s) == s.value]
    assert unlabelled == [CaseStatus.PROCESSING]  # a task outside stages.yaml: shown as its code, as before
    assert status_label("awaiting_check") == "等待部门核验"


def test_members_compare_equal_to_the_stored_strings() -> None:
    assert CaseStatus.ACCEPTING == "accepting" and Stage.RECORD == "登簿" and TaskStatus.OPEN == "open"
    assert f"{EventKind.STEP_COMPLETED}" == "step_completed" and str(Channel.WINDOW) == "window"
    assert {"登簿": 1}[Stage.RECORD] == 1


# The rows' statuses as the database holds them (values written before the enums existed, kept as they are).
STORED = {
    AppointmentStatus: (Appointment, {"booked", "cancelled", "checked_in"}, "booked"),
    ProposalStatus: (ChangeProposal, {"pending", "accepted", "declined"}, "pending"),
    PaymentStatus: (Payment, {"pending", "paid"}, "pending"),
    OutboxStatus: (OutboxMessage, {"pending", "sent", "dead"}, "pending"),
    TaxStatus: (TaxCase, {"pending", "pushed", "refused", "paid"}, "pending"),
    RightStatus: (Right, {"current", "history"}, "current"),
    CertificateStatus: (Certificate, {"valid", "revoked", "voided"}, "valid"),
}


def test_each_row_status_enum_holds_the_stored_values_and_types_its_column_default() -> None:
    for enum, (model, stored, default) in STORED.items():
        assert {m.value for m in enum} == stored, enum
        column = model.__table__.c.status
        assert all(len(v) <= column.type.length for v in stored), enum
        assert column.default.arg == default and isinstance(column.default.arg, enum), (enum, column.default.arg)
    delivery = OutboxDelivery.__table__.c.status.default.arg
    assert delivery == OutboxStatus.PENDING and isinstance(delivery, OutboxStatus)
    assert RightStatus.HISTORY == "history" and f"{CertificateStatus.VOIDED}" == "voided"


# A status, stage, kind or channel written or compared as a literal, e.g. ``case.status == "accepting"``,
# ``Task.status != "open"``, ``task.stage == "登簿"``, ``add_event(…, kind="paid"``, ``case.channel == "window"``.
_RECORDS = ("case|task|row|appointment|payment|proposal|tax|tax_case|delivery|message|right|cert|certificate|"
            "Case|Task|Appointment|Payment|ChangeProposal|TaxCase|OutboxMessage|OutboxDelivery|Right|Certificate")
_STATUS_LITERAL = r'\b(?:' + _RECORDS + r')\.status\s*(?:[!=]=|=(?!=)|(?:not\s+)?in\s*\(\s*)\s*"'
_CHINESE_STAGE = '"(?:' + "|".join(s.value for s in Stage) + ')"'
_PATTERNS = {
    "status": re.compile(_STATUS_LITERAL),
    "status (assigned)": re.compile(r'\b(?:' + _RECORDS + r')\.status(?:,\s*[\w.]+)*\s*=\s*"'),
    "status (keyword)": re.compile(r'\bstatus="'),
    "stage": re.compile(r'\bstage\b[^\n=]{0,20}(?:[!=]=|=)\s*' + _CHINESE_STAGE),
    "stage (in a tuple)": re.compile(r'\(\s*' + _CHINESE_STAGE + r'\s*,'),
    "event kind": re.compile(r'add_event\([^)]*\bkind="'),
    "channel": re.compile(r'\bchannel\s*(?:[!=]=|=)\s*"'),
}


def _offences() -> list[str]:
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        if rel == "app/vocabulary.py":
            continue
        text = path.read_text(encoding="utf-8")
        for name, pattern in _PATTERNS.items():
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{rel}:{line}: {name}: {text.splitlines()[line - 1].strip()}")
    return found


def test_app_writes_and_compares_the_vocabulary_through_the_enums() -> None:
    assert _offences() == []


def test_the_literal_check_catches_what_it_is_meant_to_catch() -> None:
    samples = ['if case.status == "accepting":', 'select(Task).where(Task.status != "open")',
               'if case.status not in ("draft", "correcting"):', 'task.status, task.completed_at = "completed", now',
               'if task.stage == "登簿":', 'add_event(session, case, kind="paid", actor=None,',
               'if case.channel != "window":', 'REVIEW_STAGES = ("受理", "审核")', 'if tax.status == "paid":',
               'Right.status == "current"', 'appointment.status, appointment.cancelled_at = "cancelled", now',
               'Certificate(number=number, status="valid",', '.values(status="revoked", revoked_at=now)']
    for sample in samples:
        assert any(p.search(sample) for p in _PATTERNS.values()), sample
    for fine in ['if case.status == CaseStatus.ACCEPTING:', 'add_event(session, case, kind=EventKind.PAID,',
                 'if result.get("tax_status") == other:', 'if result.get("status") != "完税":',
                 'if tax.status == TaxStatus.PAID:']:
        assert not any(p.search(fine) for p in _PATTERNS.values()), fine
