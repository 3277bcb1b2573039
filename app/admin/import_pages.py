"""导入其他建模工具的流程图: upload a .bpmn → mapping form → the result kept as a type's draft.

The uploaded file travels between the two steps inside the mapping form (compressed, base64): nothing is
stored until the analyst applies the mapping, and any process of the deployment can serve either step.
"""
from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

import yaml
from flask import render_template, request, url_for
from werkzeug.datastructures import MultiDict

from app.admin import bp
from app.admin.common import analyst, definitions_root
from app.catalog import diagram_import
from app.catalog.definitions import DEFAULT_DICTIONARIES
from app.catalog.foreign_bpmn import MAX_FOREIGN_BYTES, ForeignDiagram
from app.catalog.foreign_mapping import Proposal
from app.catalog.service import list_business_types
from app.errors import ValidationFailed
from app.pages import login_required, refused
from app.web import db_session


@bp.get("/import-bpmn")
@login_required
def import_upload() -> Any:
    analyst("defs:manage")
    return _upload_page({})


@bp.post("/import-bpmn")
@login_required
def import_read() -> Any:
    analyst("defs:manage")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page({"file": ["请选择要导入的 .bpmn 文件"]}, 422)
    data = upload.read()
    try:
        diagram = diagram_import.read(data, upload.filename)
        target = _target(request.form)
        plan = diagram_import.proposal(db_session(), definitions_root(), diagram, None, target)
    except ValidationFailed as exc:
        return refused(exc, _upload_page, errors=exc.errors)
    return _mapping_page(diagram, plan, _pack(data), upload.filename, request.form)


@bp.post("/import-bpmn/map")
@login_required
def import_apply() -> Any:
    actor = analyst("defs:manage")
    form = request.form
    session = db_session()
    try:
        data = _unpack(form.get("source", ""))
        diagram = diagram_import.read(data, form.get("filename", ""))
        plan = diagram_import.proposal(session, definitions_root(), diagram, form.get("process") or None,
                                       _target(form))
    except ValidationFailed as exc:
        return refused(exc, _upload_page, errors=exc.errors)
    if form.get("action") == "repick":  # another pool: a fresh proposal for it
        return _mapping_page(diagram, plan, form["source"], form.get("filename", ""), form)
    new_type = None
    if form.get("target") == "__new__":
        new_type = diagram_import.NewType(form.get("new_code", "").strip(), form.get("new_name", ""),
                                          form.get("template", ""))
    try:
        result = diagram_import.import_as_draft(session, actor, definitions_root(), diagram, _mapping(form, plan),
                                                code=_target(form), new_type=new_type)
    except ValidationFailed as exc:
        return refused(exc, _mapping_page, diagram, plan, form["source"], form.get("filename", ""), form,
                       errors=exc.errors)
    return render_template("admin/import_result.html", result=result, filename=form.get("filename", ""),
                           designer_url=url_for("admin.designer_page", code=result.code))


def _mapping(form: MultiDict[str, str], plan: Proposal) -> dict[str, Any]:
    """The analyst's choices, read for exactly the elements the proposal lists (nothing else is trusted)."""
    tasks: dict[str, Any] = {}
    for row in plan.tasks:
        kind = form.get(f"task:{row.id}:kind", "user")
        if kind == "service":
            tasks[row.id] = {"kind": "service", "connector": form.get(f"task:{row.id}:connector", "")}
        else:
            tasks[row.id] = {"kind": "user", "stage": form.get(f"task:{row.id}:stage", ""),
                             "form": form.get(f"task:{row.id}:form", ""),
                             "due_days": form.get(f"task:{row.id}:due_days", "").strip() or None}
    flows: dict[str, Any] = {}
    for row in plan.flows:
        flows[row.id] = ({"default": True} if form.get(f"flow:{row.id}:default")
                         else {"condition": form.get(f"flow:{row.id}", "")})
    return {"process": plan.pool, "default_role": form.get("default_role", ""),
            "lanes": {row.id: form.get(f"lane:{row.id}", "") for row in plan.lanes}, "tasks": tasks,
            "ends": {row.id: form.get(f"end:{row.id}", "") for row in plan.ends}, "flows": flows,
            "timers": {row.id: form.get(f"timer:{row.id}", "") for row in plan.timers}}


def _target(form: MultiDict[str, str]) -> str | None:
    target = form.get("target", "")
    return None if target in ("", "__new__") else target


def _upload_page(errors: dict[str, Any], status: int = 200) -> Any:
    types = [bt for bt, _ in list_business_types(db_session())]
    return render_template("admin/import_upload.html", types=types, errors=errors), status


def _mapping_page(diagram: ForeignDiagram, plan: Proposal, source: str, filename: str, form: MultiDict[str, str],
                  errors: dict[str, Any] | None = None, status: int = 200) -> Any:
    session = db_session()
    palette = diagram_import.palette(session, definitions_root())
    types = [bt for bt, _ in list_business_types(session)]
    return render_template(
        "admin/import_mapping.html", diagram=diagram, plan=plan, source=source, filename=filename, palette=palette,
        outcomes=_outcome_labels(), types=types, target=form.get("target", ""), new_code=form.get("new_code", ""),
        new_name=form.get("new_name", ""), template=form.get("template", ""), errors=errors or {}), status


def _outcome_labels() -> dict[str, str]:
    root = definitions_root()
    folder = root / "dictionaries" if (root / "dictionaries").is_dir() else DEFAULT_DICTIONARIES
    outcomes = yaml.safe_load((folder / "stages.yaml").read_text(encoding="utf-8"))["outcomes"]
    return {code: item.get("label", code) for code, item in outcomes.items()}


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")


def _unpack(text: str) -> bytes:
    """The file back from the form; more than the size limit (a crafted stream) is refused, not inflated."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(base64.b64decode(text.encode("ascii"), validate=True), MAX_FOREIGN_BYTES + 1)
    except (ValueError, binascii.Error, zlib.error, UnicodeEncodeError) as exc:
        message = "导入内容已损坏，请重新上传文件"
        raise ValidationFailed(message, errors={"file": [message]}) from exc
    if len(data) > MAX_FOREIGN_BYTES or inflater.unconsumed_tail:
        raise ValidationFailed("文件过大（上限 2 MB）", errors={"file": ["文件过大（上限 2 MB）"]})
    return data
