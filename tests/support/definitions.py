"""The shipped definitions as the definition tests load them: the repository's root, the service-task operators
the shipped diagrams call (the data-sharing connectors of app/integrations included), a temp copy to edit."""
from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OPERATORS = {"registry.record", "certificates.issue", "identity.verify", "contract.verify", "marriage.verify",
             "licence.verify", "tax.push_case", "tax.await_payment", "results.announce"}


def copy_definitions(target: Path) -> Path:
    """``processes/``, ``forms/`` and ``dictionaries/`` copied under ``target``, for a test to break one file."""
    for folder in ("processes", "forms", "dictionaries"):
        shutil.copytree(REPO / folder, target / folder)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in ``path`` by ``new``; the text must be there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
