"""Running cases move to a new process version when the office decides (issue 15 §4): the analyst maps the
old version's waiting tasks to the new one's, the dry run shows who would move where, each case moves
all-or-nothing and audited, and a case whose waiting task has no mapping is refused and left untouched.

The new version of 更正登记 adds a 复核 step after 审核; moved cases then finish on the new route through the
real runtime (the clerks' HTTP API)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from support.cases import complete_stage, take_through
from support.personas import STAFF
from version_fixtures import CODE


def _state(db: Any, case_id: str) -> tuple[str, str, list[tuple[str, str, str | None, Any]]]:
    from app.casefile.models import Case, Task
    from app.engine.models import WorkflowState

    with db.unit_of_work() as session:
        case = session.get_one(Case, case_id)
        tasks = session.execute(select(Task).where(Task.case_id == case_id, Task.status == "open")).scalars()
        return (case.process_version_id, session.get_one(WorkflowState, case_id).process_version_id,
                [(t.spiff_task_id, t.task_name, t.assignee_id, t.due_at) for t in tasks])


def _analyst(db: Any) -> Any:
    from app.identity.actor import actor_for
    from app.identity.models import User

    with db.unit_of_work() as session:
        return actor_for(session, session.execute(select(User).where(User.username == "analyst")).scalar_one())


def test_the_dry_run_shows_who_would_move_where_and_writes_nothing(db: Any, v1_v2: tuple[str, str],
                                                                   on_v1: dict[str, dict[str, Any]]) -> None:
    from app.cases import version_migration
    from app.catalog.designer import version_of

    v1, v2 = v1_v2
    before = {k: _state(db, c["id"]) for k, c in on_v1.items()}
    analyst = _analyst(db)
    with db.unit_of_work() as session:
        source, target = version_of(session, CODE, v1), version_of(session, CODE, v2)
        mapping = version_migration.suggested_mapping(source, target)
        assert mapping == {t: t for t in ("task_correct", "task_accept", "task_review", "task_record", "task_certify")}
        del mapping["task_correct"]
        plan = version_migration.plan(session, analyst, CODE, v1, v2, mapping)
    by_no = {c.business_no: c for c in plan.cases}
    assert [(m.from_element, m.to_element) for m in by_no[on_v1["受理"]["business_no"]].moves] == [
        ("task_accept", "task_accept")]
    assert by_no[on_v1["审核"]["business_no"]].ok
    refused = by_no[on_v1["补正"]["business_no"]]
    assert not refused.ok and "补正材料" in refused.refusals[0] and "没有指定" in refused.refusals[0]
    assert {k: _state(db, c["id"]) for k, c in on_v1.items()} == before


def test_cases_move_to_the_new_version_and_finish_on_its_route(login: Any, db: Any, v1_v2: tuple[str, str],
                                                               on_v1: dict[str, dict[str, Any]]) -> None:
    from app.cases import version_migration
    from app.security.models import AuditEntry

    v1, v2 = v1_v2
    reviewer = login(STAFF["审核"])
    review_task = reviewer.get("/api/v1/tasks", query_string={"business_no": on_v1["审核"]["business_no"]})
    assert reviewer.post(f"/api/v1/tasks/{review_task.get_json()['items'][0]['id']}/claim").status_code == 200
    before = {k: _state(db, c["id"]) for k, c in on_v1.items()}
    analyst = _analyst(db)
    with db.unit_of_work() as session:
        result = version_migration.migrate(session, analyst, CODE, v1, v2,
                                           {"task_accept": "task_accept", "task_review": "task_review"})
    assert sorted(c.business_no for c in result.movable) == sorted(
        on_v1[k]["business_no"] for k in ("受理", "审核"))
    assert [c.business_no for c in result.refused] == [on_v1["补正"]["business_no"]]
    for stage in ("受理", "审核"):  # same task, same id, assignee and due date; now on v2
        case_version, state_version, tasks = _state(db, on_v1[stage]["id"])
        assert (case_version, state_version) == (v2, v2)
        assert [(t[0], t[2], t[3]) for t in tasks] == [(t[0], t[2], t[3]) for t in before[stage][2]]
    assert _state(db, on_v1["补正"]["id"]) == before["补正"]  # refused: untouched on v1

    take_through(login, on_v1["受理"]["business_no"], ("受理", "审核"))
    assert complete_stage(reviewer, on_v1["审核"]["business_no"], "审核").status_code == 200
    for key in ("受理", "审核"):  # the new 复核 step (stage 审核) comes before 登簿
        tasks = reviewer.get("/api/v1/tasks", query_string={"business_no": on_v1[key]["business_no"]})
        assert [t["title"] for t in tasks.get_json()["items"]] == ["复核"]
        take_through(login, on_v1[key]["business_no"], ("审核", "登簿", "缮证"))
        progress = login("zhangsan").get(f"/api/v1/applications/{on_v1[key]['id']}/progress").get_json()
        assert progress["status"] == "completed"
        [moved] = [e["message"] for e in progress["events"] if e["kind"] == "version_migrated"]
        assert moved.startswith("办理流程已更新为 v2")
    with db.unit_of_work() as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.action.in_(
            ("case.migrate_version", "definition.migrate_cases"))).order_by(AuditEntry.seq)).scalars().all()
        moved = [e for e in entries if e.action == "case.migrate_version"]
        assert {e.object_id for e in moved} == {on_v1["受理"]["id"], on_v1["审核"]["id"]}
        assert all(e.before["process_version_id"] == v1 and e.after["process_version_id"] == v2 for e in moved)
        assert entries[-1].action == "definition.migrate_cases" and entries[-1].after["moved"] == 2
        assert entries[-1].after["refused"] == [on_v1["补正"]["id"]]


def test_a_failure_half_way_leaves_that_case_on_the_old_version(db: Any, v1_v2: tuple[str, str],
                                                                 on_v1: dict[str, dict[str, Any]],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cases import version_migration
    from app.security.models import AuditEntry

    v1, v2 = v1_v2
    victim = on_v1["审核"]["id"]
    before = _state(db, victim)
    real_event = version_migration.progress.add_event

    def failing_event(session: Any, case: Any, **kw: Any) -> Any:
        if case.id == victim:  # after the workflow state, the case and its inbox rows were rewritten
            raise RuntimeError("disk full")
        return real_event(session, case, **kw)

    monkeypatch.setattr(version_migration.progress, "add_event", failing_event)
    analyst = _analyst(db)
    with db.unit_of_work() as session:
        result = version_migration.migrate(session, analyst, CODE, v1, v2,
                                           {"task_accept": "task_accept", "task_review": "task_review",
                                            "task_correct": "task_correct"})
    failed = {c.case_id: c.refusals for c in result.refused}
    assert failed == {victim: [version_migration.FAILED]}
    assert _state(db, victim) == before
    assert _state(db, on_v1["受理"]["id"])[0] == v2 and _state(db, on_v1["补正"]["id"])[0] == v2
    with db.unit_of_work() as session:
        moved = session.execute(select(AuditEntry.object_id).where(
            AuditEntry.action == "case.migrate_version")).scalars().all()
        assert victim not in moved and len(moved) == 2


def test_the_analyst_maps_dry_runs_and_migrates_on_the_admin_page(page_login: Any, db: Any,
                                                                  v1_v2: tuple[str, str],
                                                                  on_v1: dict[str, dict[str, Any]]) -> None:
    v1, v2 = v1_v2
    page = f"/admin/types/{CODE}/migration"
    assert page_login("xh_reviewer").get(page).status_code == 403
    analyst = page_login("analyst")
    assert f'href="{page}"' in analyst.get("/admin/").get_data(as_text=True)
    html = analyst.get(page).get_data(as_text=True)  # defaults: v1 (with running cases) → v2 (current)
    assert f'name="source" value="{v1}"' in html and f'name="target" value="{v2}"' in html
    assert '<option value="task_review" selected>审核' in html and "复核（task_recheck" in html

    form = {"source": v1, "target": v2, "map-task_accept": "task_accept", "map-task_review": "task_review",
            "map-task_correct": "", "map-task_record": "task_record", "map-task_certify": "task_certify"}
    before = {k: _state(db, c["id"]) for k, c in on_v1.items()}
    dry = analyst.post_form(f"{page}/plan", form)
    text = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "预演：可迁移 2 件，不能迁移 1 件" in text
    assert "等待中的环节「补正材料」（task_correct）没有指定新版本中的对应环节" in text
    assert "执行迁移（2 件）" in text
    assert {k: _state(db, c["id"]) for k, c in on_v1.items()} == before  # a dry run writes nothing

    bad = analyst.post_form(f"{page}/plan", {**form, "map-task_review": "nowhere"})
    assert bad.status_code == 422 and "v2 中没有用户任务 nowhere" in bad.get_data(as_text=True)
    same = analyst.post_form(f"{page}/plan", {**form, "target": v1})
    assert same.status_code == 422 and "原版本与目标版本相同" in same.get_data(as_text=True)

    done = analyst.post_form(page, form)
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "迁移结果：已迁移 2 件，未迁移 1 件" in text
    assert "补正材料（task_correct）→ —" in text and "审核（task_review）→ 审核（task_review）" in text
    assert [_state(db, on_v1[k]["id"])[0] for k in ("受理", "审核", "补正")] == [v2, v2, v1]
