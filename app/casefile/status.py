"""Case status derived from where the workflow stands (stage of the open task, or the end reached)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from app.config import ROOT

DRAFT, SUBMITTED = "draft", "submitted"

STATUS_LABELS_EXTRA = {"draft": "草稿", "submitted": "已提交",
                       # at 受理, a department check still unanswered (app/cases/sharing/rechecks.py)
                       "awaiting_check": "等待部门核验"}


@lru_cache(maxsize=1)
def _stages() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "dictionaries" / "stages.yaml").read_text(encoding="utf-8"))


def status_for_stage(stage: str) -> str:
    for s in _stages()["stages"]:
        if s["code"] == stage:
            return str(s["status"])
    return "processing"


def status_for_outcome(end_event: str | None) -> str:
    outcome = _stages()["outcomes"].get(end_event or "")
    return str(outcome["status"]) if outcome else "completed"


def status_label(status: str) -> str:
    for s in _stages()["stages"]:
        if s["status"] == status:
            return str(s["label"])
    for o in _stages()["outcomes"].values():
        if o["status"] == status:
            return str(o["label"])
    return STATUS_LABELS_EXTRA.get(status, status)


FINAL_STATUSES = frozenset(str(o["status"]) for o in _stages()["outcomes"].values())


def stage_codes() -> list[str]:
    """Stages in timeline order (dictionaries/stages.yaml), for filters and displays."""
    return [str(s["code"]) for s in _stages()["stages"]]
