"""迁移在办案件: the page where an analyst moves a type's running cases from one version to another — choose
the versions, map each user task of the old version to one of the new (pre-filled by id, then name), 预演
(dry run, writes nothing) and 执行迁移. Plain HTML forms; the use case is app/cases/version_migration.py."""
from __future__ import annotations

from typing import Any

from flask import render_template, request

from app.admin import bp
from app.admin.common import analyst
from app.cases import version_migration as vm
from app.catalog import designer
from app.catalog.models import ProcessVersion
from app.errors import ValidationFailed
from app.pages import login_required, refused
from app.web import db_session


def _default_versions(versions: list[dict[str, Any]]) -> tuple[str, str]:
    """The oldest non-current version with running cases → the current version."""
    current = next((v["id"] for v in versions if v["current"]), versions[0]["id"])
    sources = [v["id"] for v in reversed(versions) if v["running_cases"] and v["id"] != current]
    return (sources[0] if sources else next((v["id"] for v in versions if v["id"] != current), current)), current


def _posted_mapping(source: ProcessVersion) -> dict[str, str]:
    return {t.id: request.form.get(f"map-{t.id}", "") for t in vm.user_tasks(source)}


def _render(code: str, source_id: str | None, target_id: str | None, mapping: dict[str, str] | None = None,
            plan: vm.MigrationPlan | None = None, errors: dict[str, list[str]] | None = None,
            status: int = 200) -> Any:
    session = db_session()
    bt = designer.business_type(session, code)
    versions = designer.versions(session, code)
    default_source, default_target = _default_versions(versions)
    source = designer.version_of(session, code, source_id or default_source)
    target = designer.version_of(session, code, target_id or default_target)
    if mapping is None:
        mapping = vm.suggested_mapping(source, target)
    return render_template("admin/migration.html", bt=bt, versions=versions, source=source, target=target,
                           old_tasks=vm.user_tasks(source), new_tasks=vm.user_tasks(target), mapping=mapping,
                           waiting=vm.waiting_counts(session, source), plan=plan, errors=errors or {}), status


@bp.get("/types/<code>/migration")
@login_required
def migration_page(code: str) -> Any:
    analyst(vm.PERMISSION)
    return _render(code, request.args.get("source"), request.args.get("target"))


def _run(code: str, execute: bool) -> Any:
    actor = analyst(vm.PERMISSION)
    session = db_session()
    source_id, target_id = request.form.get("source", ""), request.form.get("target", "")
    source = designer.version_of(session, code, source_id)
    mapping = _posted_mapping(source)
    try:
        run = vm.migrate if execute else vm.plan
        result = run(session, actor, code, source_id, target_id, mapping)
    except ValidationFailed as exc:
        return refused(exc, _render, code, source_id, target_id, mapping, errors=exc.errors)
    return _render(code, source_id, target_id, mapping, plan=result)


@bp.post("/types/<code>/migration/plan")
@login_required
def migration_plan(code: str) -> Any:
    return _run(code, execute=False)


@bp.post("/types/<code>/migration")
@login_required
def migration_execute(code: str) -> Any:
    return _run(code, execute=True)
