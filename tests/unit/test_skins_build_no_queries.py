"""Skins (api, portal, workbench, admin and the single-page ones) call use cases and query functions; they run
no statements themselves. The import-linter contract ``skins-build-no-queries`` (setup.cfg) keeps sqlalchemy
out of them; this test closes what an import graph cannot see: a statement built elsewhere and executed in a
view, or sqlalchemy reached through ``__import__``."""
from __future__ import annotations

import re

from app.config import ROOT

SKINS = ("app/api", "app/portal", "app/workbench", "app/admin", "app/verify_page.py", "app/account_security.py",
         "app/home.py")
RUNS_A_STATEMENT = re.compile(r"\.(execute|scalars?|scalar_one)\(|__import__\(")


def test_no_skin_runs_a_statement() -> None:
    found = []
    for skin in SKINS:
        path = ROOT / skin
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
                if RUNS_A_STATEMENT.search(line):
                    found.append(f"{source.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "move these into a use case or query function:\n" + "\n".join(found)
