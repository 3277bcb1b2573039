"""Issue 18: the connectors and expression functions are there for whoever builds a script engine, not only
after ``create_app`` imported their modules (the raw baseline of bench/lifecycle.py stopped at
``表达式使用了不允许的函数 tax_paid``)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from app.engine.providers import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]

WITHOUT_APP = """
import sys
from app.engine.script_engine import SafeScriptEngine
from app.engine.connectors import known_operators
assert "app" in sys.modules and "app.cases.sharing.tax" not in sys.modules  # nothing imported it yet
engine = SafeScriptEngine(context=None)
print(engine.environment.evaluate("tax_paid()", {}))
print(sorted(known_operators()))
"""


def test_a_script_engine_built_without_the_app_knows_every_function_and_connector() -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_APP], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    value, operators = done.stdout.splitlines()[-2:]
    assert value == "False"  # tax_paid() ran (no case in the context: not paid), instead of being refused
    assert "'tax.push_case'" in operators and "'registry.record'" in operators
    assert "'certificates.issue'" in operators and "'identity.verify'" in operators


def test_every_module_that_registers_a_connector_or_function_is_a_provider() -> None:
    registering = re.compile(r"^@(connector|register_function)\(", re.MULTILINE)
    found = {".".join(path.relative_to(ROOT).with_suffix("").parts)
             for path in (ROOT / "app").rglob("*.py")
             if registering.search(path.read_text(encoding="utf-8"))}
    found.discard("app.engine.expressions")  # registers the built-in functions itself
    assert found <= set(PROVIDERS), sorted(found - set(PROVIDERS))
