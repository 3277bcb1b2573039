"""The designer's dry run with 模拟超时: a named timer expires as soon as it waits, so the escalation path
(boundary timer on a user task, or the timer branch of an event-based gateway) is shown as taken."""
from __future__ import annotations

from typing import Any

from test_safe_expressions import timer_diagram

from app.engine.dry_run import dry_run


def _decide(task_id: str, form_key: str, visit: int) -> dict[str, Any]:
    return {"decision": "approve"}


def test_an_interrupting_boundary_timer_is_taken_when_simulated() -> None:
    xml = timer_diagram('"P3D"').replace(b'cancelActivity="false"', b'cancelActivity="true"')
    normal = dry_run(xml, "p", {}, _decide, {})
    assert normal.finished and normal.end_event == "end"
    late = dry_run(xml, "p", {}, _decide, {}, frozenset({"deadline"}))
    assert late.finished and late.end_event == "end_late", late
    assert [s.element for s in late.steps if s.data == {"模拟超时": True}] == ["deadline"]
    assert "review" not in [s.element for s in late.steps if s.kind == "user"]  # cancelled by the timer
    assert "f_late" in late.flows


def test_a_non_interrupting_boundary_timer_runs_beside_the_task() -> None:
    late = dry_run(timer_diagram('"P3D"'), "p", {}, _decide, {}, frozenset({"deadline"}))
    visited = [s.element for s in late.steps]
    assert "deadline" in visited and "end_late" in visited and "review" in visited
