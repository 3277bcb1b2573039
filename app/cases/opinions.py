"""常用意见: configurable opinion templates per stage and decision.

The analysts edit them as the 审批意见模板 dictionary (/admin/dictionaries/opinion_templates, audited); an
entry's code says where it applies: ``<stage code>_<decision>_<n>`` (``review_approve_1`` = 审核, 通过).
dictionaries/opinion_templates.yaml is the shipped set: it seeds the dictionary (``flask setup``) and is
used as is while the dictionary holds no opinion template at all (a fresh database)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.catalog.models import DictionaryEntry
from app.catalog.opinion_templates import STAGE_CODES, shipped_templates
from app.clock import beijing_today


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
