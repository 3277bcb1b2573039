"""常用意见: configurable opinion templates per stage and decision (dictionaries/opinion_templates.yaml).

Read from disk on every call (a small YAML file), so an edit shows up without a restart and no process
holds a stale copy."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from app.config import ROOT
from app.errors import DefinitionError

TEMPLATES_YAML = ROOT / "dictionaries" / "opinion_templates.yaml"


def opinion_templates(stage: str, path: Path = TEMPLATES_YAML) -> dict[str, list[str]]:
    """``{decision: [text, …]}`` for one stage; empty when the stage has none."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    stages = data.get("templates") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        raise DefinitionError("缺少 templates", file=path.name)
    by_decision = stages.get(stage) or {}
    if not isinstance(by_decision, dict):
        raise DefinitionError(f"环节“{stage}”的常用意见应按结论列出", file=path.name)
    return {str(decision): [str(t) for t in texts or []] for decision, texts in by_decision.items()}
