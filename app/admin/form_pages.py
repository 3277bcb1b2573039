"""Form editor pages: the field table of a JSON-Schema form with a live preview rendered by the shared
form renderer (templates/forms/render.html), saved as new versions of the types that use the form."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst, definitions_root
from app.catalog import form_editing
from app.catalog.form_editing import FIELD_TYPES, FieldRow
from app.catalog.forms import WIDGETS
from app.errors import ValidationFailed
from app.pages import login_required, refused
from app.web import db_session

ROW_FIELDS = ("name", "title", "description", "type", "widget", "choices", "order")


@bp.get("/forms")
@login_required
def form_list() -> str:
    analyst()
    used = form_editing.forms_in_use(db_session())
    root = definitions_root()
    forms = [(p.stem, form_editing.current_form(db_session(), root, p.stem).get("title", ""), used.get(p.stem, []))
             for p in sorted((root / "forms").glob("*.json"))]
    return render_template("admin/form_list.html", forms=forms)


def _rows_from_request() -> list[FieldRow]:
    rows = []
    count = int(request.form.get("row_count") or 0)
    for key in [str(i) for i in range(min(count, 200))] + ["new"]:
        values = {f: (request.form.get(f"rows-{key}-{f}") or "").strip()
                  for f in (*ROW_FIELDS, "required", "pii", "delete")}
        rows.append(FieldRow(**{f: values[f] for f in ROW_FIELDS}, required=bool(values["required"]),
                             pii=bool(values["pii"]), delete=bool(values["delete"]), new=key == "new"))
    return rows


def _render(name: str, schema: dict[str, Any], rows: list[FieldRow], errors: dict[str, list[str]],
            status: int = 200) -> Any:
    used = form_editing.forms_in_use(db_session()).get(name, [])
    return render_template("admin/form_edit.html", name=name, schema=schema, rows=rows, errors=errors, used=used,
                           types=FIELD_TYPES, widgets=sorted(WIDGETS)), status


@bp.get("/forms/<name>")
@login_required
def form_edit(name: str) -> Any:
    analyst()
    schema = form_editing.current_form(db_session(), definitions_root(), name)
    return _render(name, schema, form_editing.rows_of(schema), {})


@bp.post("/forms/<name>")
@login_required
def form_save(name: str) -> Any:
    actor = analyst("defs:manage" if request.form.get("action") == "save" else "defs:read")
    base = form_editing.current_form(db_session(), definitions_root(), name)
    rows = _rows_from_request()
    schema, errors = form_editing.apply_rows(base, rows)
    if errors or request.form.get("action") != "save":  # preview, or show the problems next to the rows
        return _render(name, schema, rows, errors, 422 if errors else 200)
    try:
        messages = form_editing.save_form(db_session(), actor, definitions_root(), name, schema)
    except ValidationFailed as exc:
        return refused(exc, _render, name, schema, rows, errors={k: list(v) for k, v in exc.errors.items()})
    flash("表单已保存：" + "；".join(messages), "success")
    return redirect(url_for("admin.form_edit", name=name))


@bp.post("/forms/<name>/preview")
@login_required
def form_preview(name: str) -> Any:
    analyst()
    base = form_editing.current_form(db_session(), definitions_root(), name)
    schema, errors = form_editing.apply_rows(base, _rows_from_request())
    return render_template("admin/form_preview.html", schema=schema, errors=errors)
