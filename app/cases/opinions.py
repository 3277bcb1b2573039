"""常用意见: configurable opinion templates per stage and decision.

The analysts edit them as the 审批意见模板 dictionary (/admin/dictionaries/opinion_templates, audited); an
entry's code says where it applies: ``<stage code>_<decision>_<n>`` (``review_approve_1`` = 审核, 通过).
dictionaries/opinion_templates.yaml is the shipped set: it seeds the dictionary (``flask setup``) and is
used as is while the dictionary holds no opinion template at all (a fresh database)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.catalog.models import DictionaryEntry
from app.clock import beijing_today
from app.config import ROOT
from app.errors import DefinitionError

TEMPLATES_YAML = ROOT / "dictionaries" / "opinion_templates.yaml"
STAGE_CODES = {"受理": "accept", "审核": "review", "完税": "tax", "登簿": "record", "缮证": "certify",
               "补正": "correct"}
DECISION_LABELS = {"approve": "通过", "reject": "不通过", "correct": "补正", "return": "退回"}


def shipped_templates(path: Path = TEMPLATES_YAML) -> dict[str, dict[str, list[str]]]:
    """``{stage: {decision: [text, …]}}`` from the shipped file."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    stages = data.get("templates") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        raise DefinitionError("缺少 templates", file=path.name)
    out: dict[str, dict[str, list[str]]] = {}
    for stage, by_decision in stages.items():
        if not isinstance(by_decision, dict):
            raise DefinitionError(f"环节“{stage}”的常用意见应按结论列出", file=path.name)
        out[str(stage)] = {str(d): [str(t) for t in texts or []] for d, texts in by_decision.items()}
    return out


def dictionary_rows(path: Path = TEMPLATES_YAML) -> list[tuple[str, str, str]]:
    """(code, name, text) of the shipped templates as dictionary entries."""
    rows = []
    for stage, by_decision in shipped_templates(path).items():
        for decision, texts in by_decision.items():
            for i, text in enumerate(texts, 1):
                code = f"{STAGE_CODES.get(stage, 'other')}_{decision}_{i}"
                rows.append((code, f"{stage}·{DECISION_LABELS.get(decision, decision)}（{i}）", text))
    return rows


def opinion_templates(session: Session, stage: str, today: date | None = None) -> dict[str, list[str]]:
    """``{decision: [text, …]}`` for one stage from the dictionary (entries past their end date left out)."""
    kind = DictionaryEntry.kind == "opinion_templates"
    if session.execute(select(DictionaryEntry.id).where(kind).limit(1)).first() is None:
        return shipped_templates().get(stage, {})
    prefix = STAGE_CODES.get(stage)
    if prefix is None:
        return {}
    today = today or beijing_today()
    entries = session.execute(select(DictionaryEntry).where(
        kind, DictionaryEntry.code.like(f"{prefix}\\_%", escape="\\"),
        or_(DictionaryEntry.effective_to.is_(None), DictionaryEntry.effective_to >= today))
        .order_by(DictionaryEntry.code)).scalars()
    out: dict[str, list[str]] = {}
    for entry in entries:
        parts = entry.code.split("_")
        if len(parts) >= 2 and entry.text:
            out.setdefault(parts[1], []).append(entry.text)
    return out
