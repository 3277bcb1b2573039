"""Business-type configuration pages: metadata and fees, material checklist, export to / import from files.
Plain HTML forms (no JavaScript needed); each save publishes a new version."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst, definitions_root
from app.catalog import config, designer, type_editing
from app.catalog.condition_fields import application_fields, dictionary_choices
from app.catalog.meta_schemas import APPLICANT_MODES
from app.catalog.service import current_version, sync_definitions, version_definition
from app.errors import ValidationFailed
from app.identity.roles import role_names
from app.pages import login_required, refused
from app.web import db_session

FEE_FIELDS = ("code", "name", "amount_yuan", "basis", "payer_role", "when")
MATERIAL_FIELDS = ("code", "name", "condition", "max_size_mb", "exemptible_by", "description", "sample", "generated")


def _indexed(prefix: str, fields: tuple[str, ...], limit: int = 100) -> list[dict[str, Any]]:
    """Rows ``prefix-<i>-<field>`` of a table form; rows marked deleted or left empty are dropped.
    Checkboxes (``required``) and multi-choices (``accepted_types``) come along when the row has them."""
    rows = []
    for i in range(limit):
        key = f"{prefix}-{i}-"
        if f"{key}{fields[0]}" not in request.form:
            break
        row: dict[str, Any] = {f: (request.form.get(key + f) or "").strip() for f in fields}
        if prefix == "report":  # multi-line text keeps its lines
            row = {f: (request.form.get(key + f) or "").replace("\r\n", "\n").strip() for f in fields}
        if request.form.get(key + "delete") or not any(row.values()):
            continue
        if prefix == "perm":
            row["index"] = i
        if f"{key}required-shown" in request.form:
            row["required"] = bool(request.form.get(key + "required"))
            row["accepted_types"] = request.form.getlist(key + "accepted_types")
        rows.append(row)
    return rows


def _page(code: str, business: dict[str, Any], materials: list[dict[str, Any]], errors: dict[str, list[str]],
          status: int = 200) -> Any:
    session = db_session()
    palette = designer.palette_vocabulary(definitions_root(), role_names(session))
    roles = {r["code"]: r["name"] for r in palette["roles"]}
    definition = version_definition(current_version(session, code, unreleased=True))
    app_schema = definition.application_schema
    app_form = app_schema.get("properties", {})
    return render_template("admin/type_edit.html", bt=designer.business_type(session, code), business=business,
                           tasks=definition.user_tasks, roles=roles,
                           form_fields=[(n, p.get("title", n)) for n, p in app_form.items()],
                           fee_condition_fields=application_fields(app_schema, always_present=False,
                                                                   dictionary_options=dictionary_choices(session)),
                           materials=materials, errors=errors, versions=designer.versions(session, code),
                           report_lines=type_editing.report_lines, modes=APPLICANT_MODES,
                           exemptions=type_editing.EXEMPTION_LABELS,
                           file_types=type_editing.FILE_TYPES), status


def _save(code: str, save: Callable[[], str], *, business: dict[str, Any] | None = None,
          materials: list[dict[str, Any]] | None = None) -> Any:
    """Save one section of the type; when refused, show the page again with what was typed (``business`` /
    ``materials``) and the errors beside the fields."""
    try:
        message = save()
    except ValidationFailed as exc:
        return refused(exc, _typed_again, code, business, materials, errors=exc.errors)
    flash(f"已保存：{message}", "success")
    return redirect(url_for("admin.type_edit", code=code))


def _typed_again(code: str, business: dict[str, Any] | None, materials: list[dict[str, Any]] | None, *,
                 errors: dict[str, list[str]], status: int) -> Any:
    """The type's page as saved, with what was typed in the refused section over it."""
    session = db_session()
    shown = {**type_editing.business_for_edit(session, code), **(business or {})}
    items = materials if materials is not None else type_editing.materials_for_edit(session, code)
    return _page(code, shown, items, errors, status)


@bp.get("/types/<code>")
@login_required
def type_edit(code: str) -> Any:
    analyst()
    session = db_session()
    business = type_editing.business_for_edit(session, code)
    return _page(code, business, type_editing.materials_for_edit(session, code), {})


@bp.post("/types/<code>/business")
@login_required
def type_save_business(code: str) -> Any:
    actor = analyst("defs:manage")
    form = request.form
    changes: dict[str, Any] = {
        "name": form.get("name", "").strip(), "time_limit_days": form.get("time_limit_days", ""),
        "applicant_mode": form.get("applicant_mode", ""), "guide": form.get("guide", "").replace("\r\n", "\n"),
        "legal_basis": [line.strip() for line in form.get("legal_basis", "").splitlines() if line.strip()],
        "faq": [{"q": r["q"], "a": r["a"]} for r in _indexed("faq", ("q", "a"))],
        "fees": _indexed("fees", FEE_FIELDS),
    }
    return _save(code, lambda: type_editing.save_business(db_session(), actor, definitions_root(), code, changes),
                 business=changes)


@bp.post("/types/<code>/materials")
@login_required
def type_save_materials(code: str) -> Any:
    actor = analyst("defs:manage")
    items = _indexed("materials", MATERIAL_FIELDS)
    return _save(code, lambda: type_editing.save_materials(db_session(), actor, definitions_root(), code, items),
                 materials=items)


@bp.post("/types/<code>/stage-permissions")
@login_required
def type_save_stage_permissions(code: str) -> Any:
    actor = analyst("defs:manage")
    rows = []
    for row in _indexed("perm", ("stage", "role", "hidden", "editable")):
        row["act"] = bool(request.form.get(f"perm-{row.pop('index')}-act"))
        rows.append(row)
    return _save(code, lambda: type_editing.save_stage_permissions(db_session(), actor, definitions_root(), code,
                                                                    rows), business={"stage_permissions": rows})


@bp.post("/types/<code>/reports")
@login_required
def type_save_reports(code: str) -> Any:
    actor = analyst("defs:manage")
    reports = _indexed("report", ("code", "title", "rows", "text"))
    return _save(code, lambda: type_editing.save_reports(db_session(), actor, definitions_root(), code, reports),
                 business={"reports": reports})


@bp.post("/types/<code>/export")
@login_required
def type_export(code: str) -> Any:
    written = config.export_type(db_session(), analyst("defs:manage"), definitions_root(), code)
    flash(f"已导出到定义目录：{'、'.join(written)}" if written else "定义目录中的文件已是当前版本，无需导出", "success")
    return redirect(url_for("admin.type_edit", code=code))


@bp.post("/import")
@login_required
def import_definitions() -> Any:
    actor = analyst("defs:manage")
    lines = sync_definitions(db_session(), definitions_root(), actor.user_id)
    flash("已从定义目录导入：" + "；".join(lines), "success")
    return redirect(url_for("admin.index"))
