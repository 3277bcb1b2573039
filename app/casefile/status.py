"""Case status derived from where the workflow stands (stage of the open task, or the end reached)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from app.config import ROOT
from app.vocabulary import FINAL_STATUSES, CaseStatus

__all__ = ["DRAFT", "FINAL_STATUSES", "SUBMITTED", "stage_codes", "status_for_outcome", "status_for_stage",
           "status_label"]

DRAFT, SUBMITTED = CaseStatus.DRAFT, CaseStatus.SUBMITTED

# Labels of the statuses stages.yaml does not name (the stages' and outcomes' labels are read from it).
STATUS_LABELS_EXTRA: dict[str, str] = {CaseStatus.DRAFT: "草稿", CaseStatus.SUBMITTED: "已提交",
                       # at 受理, a department check still unanswered (app/cases/sharing/rechecks.py)
                       CaseStatus.AWAITING_CHECK: "等待部门核验"}


@lru_cache(maxsize=1)
def _stages() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "dictionaries" / "stages.yaml").read_text(encoding="utf-8"))


def status_for_stage(stage: str) -> CaseStatus:
    for s in _stages()["stages"]:
        if s["code"] == stage:
            return CaseStatus(s["status"])
    return CaseStatus.PROCESSING


def status_for_outcome(end_event: str | None) -> CaseStatus:
    outcome = _stages()["outcomes"].get(end_event or "")
    return CaseStatus(outcome["status"]) if outcome else CaseStatus.COMPLETED


def status_label(status: str) -> str:
    for s in _stages()["stages"]:
        if s["status"] == status:
            return str(s["label"])
    for o in _stages()["outcomes"].values():
        if o["status"] == status:
            return str(o["label"])
    return STATUS_LABELS_EXTRA.get(status, status)


def stage_codes() -> list[str]:
    """Stages in timeline order (dictionaries/stages.yaml), for filters and displays."""
    return [str(s["code"]) for s in _stages()["stages"]]
