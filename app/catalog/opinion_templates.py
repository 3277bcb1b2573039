"""The shipped 常用意见 (dictionaries/opinion_templates.yaml): read here, in the catalog, because the catalog
seeds the 审批意见模板 dictionary from it (``flask setup``); app/cases/opinions.py serves them to clerks."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.config import ROOT
from app.errors import DefinitionError
from app.vocabulary import Stage

TEMPLATES_YAML = ROOT / "dictionaries" / "opinion_templates.yaml"
STAGE_CODES: dict[str, str] = {Stage.ACCEPT: "accept", Stage.REVIEW: "review", Stage.TAX: "tax",
                               Stage.RECORD: "record", Stage.CERTIFY: "certify", Stage.CORRECT: "correct"}
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
