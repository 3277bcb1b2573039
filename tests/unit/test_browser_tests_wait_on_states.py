"""The browser tests read the page only through waits on states (tests/README.md "Rules"). Found on a loaded
CI machine: `assert preview.locator(...).count() == 1` read the designer's form preview before its update
arrived; Playwright's `expect(...).to_have_count(n)` waits for the state instead. This keeps the one-shot
readers of a changing count, and fixed sleeps, out of tests/browser."""
from __future__ import annotations

import re
from pathlib import Path

BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"
ONE_SHOT_COUNT = re.compile(r"\bassert\b[^#\n]*\.count\(\)\s*==")
FIXED_SLEEP = re.compile(r"\btime\.sleep\(|\bwait_for_timeout\(")


def offending_lines(pattern: re.Pattern[str]) -> list[str]:
    return [f"{path.name}:{n}: {line.strip()}" for path in sorted(BROWSER_TESTS.glob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            if pattern.search(line)]


def test_no_one_shot_count_assertion_in_browser_tests() -> None:
    assert offending_lines(ONE_SHOT_COUNT) == [], "use expect(locator).to_have_count(n)"


def test_no_fixed_sleep_in_browser_tests() -> None:
    assert offending_lines(FIXED_SLEEP) == [], "wait on a state (expect, wait_for_function)"


def test_the_patterns_catch_what_they_are_for() -> None:
    assert ONE_SHOT_COUNT.search("    assert page.locator('x').count() == 1")
    assert not ONE_SHOT_COUNT.search("    expect(page.locator('x')).to_have_count(1)")
    assert FIXED_SLEEP.search("time.sleep(0.5)") and FIXED_SLEEP.search("page.wait_for_timeout(100)")
