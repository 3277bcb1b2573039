"""JSON endpoints of the designer (fetch() with the session cookie and the X-CSRFToken header)."""
from __future__ import annotations

from typing import Any

from flask import request

from app.admin import bp
from app.admin.common import analyst, definitions_root, json_body, json_object
from app.catalog import designer, trial
from app.errors import ValidationFailed
from app.identity.roles import role_names
from app.web import db_session


@bp.get("/api/types/<code>/versions")
def version_list(code: str) -> Any:
    analyst()
    return {"items": designer.versions(db_session(), code)}


@bp.get("/api/types/<code>/versions/<version_id>/xml")
def version_xml(code: str, version_id: str) -> Any:
    analyst()
    return {"xml": designer.version_of(db_session(), code, version_id).bpmn_xml}


@bp.post("/api/types/<code>/draft")
def save_draft(code: str) -> Any:
    body = json_body("xml")
    draft = designer.save_draft(db_session(), analyst("defs:manage"), code, body["xml"],
                                body.get("based_on") or None)
    return {"saved": True, "updated_at": draft.updated_at.isoformat()}


@bp.post("/api/types/<code>/validate")
def validate_diagram(code: str) -> Any:
    analyst()
    body = json_body("xml")
    designer.business_type(db_session(), code)
    session = db_session()
    return _findings(designer.validate(definitions_root(), code, body["xml"], role_names(session), session))


@bp.post("/api/types/<code>/publish")
def publish_diagram(code: str) -> Any:
    body = json_body("xml")
    actor = analyst("defs:manage")
    session = db_session()
    try:  # one check decides (the whole type, the path check's dry runs): not validated once more here
        version, message = designer.publish(session, actor, definitions_root(), code, body["xml"],
                                            roles=role_names(session))
    except designer.DiagramRefused as refused:
        return _findings(refused.findings), 422
    return {"ok": True, "version_id": version.id, "version_no": version.version_no, "message": message,
            "versions": designer.versions(session, code)}


@bp.post("/api/types/<code>/dry-run")
def dry_run(code: str) -> Any:
    analyst()
    body = json_body("xml")
    designer.business_type(db_session(), code)
    roles = role_names(db_session())
    findings = _findings(designer.validate(definitions_root(), code, body["xml"], roles, db_session()))
    if not findings["ok"]:
        return findings, 422
    timeouts = body.get("timeouts") or []
    if not isinstance(timeouts, list) or not all(isinstance(t, str) for t in timeouts):
        raise ValidationFailed("内容格式不正确", errors={"timeouts": ["应为计时器事件编号的列表"]})
    result = trial.run_trial(definitions_root(), code, body["xml"], json_object(body, "data"),
                             json_object(body, "decisions"), json_object(body, "answers"), timeouts, roles=roles)
    return {"ok": True, **result}


@bp.post("/api/types/<code>/compare-draft")
def compare_draft(code: str) -> Any:
    """The diagram being edited (a draft, unsaved edits included) against a published version."""
    analyst()
    body = json_body("xml")
    old = designer.version_of(db_session(), code, str(body.get("version_id") or ""))
    return {"a": old.version_no, "b": "草稿", **trial.compare(old.bpmn_xml, body["xml"])}


@bp.get("/api/types/<code>/compare")
def compare_versions(code: str) -> Any:
    analyst()
    session = db_session()
    old = designer.version_of(session, code, request.args.get("a", ""))
    new = designer.version_of(session, code, request.args.get("b", ""))
    return {"a": old.version_no, "b": new.version_no, **trial.compare(old.bpmn_xml, new.bpmn_xml)}


def _findings(problems: list[designer.DiagramProblem]) -> dict[str, Any]:
    """Validation as the designer marks it: every error and every warning, each on its element."""
    errors = [p.as_dict() for p in problems if p.is_error]
    return {"ok": not errors, "errors": errors, "warnings": [p.as_dict() for p in problems if not p.is_error]}
