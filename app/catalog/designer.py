"""Use cases behind the visual process designer: drafts, validation, publishing, version usage.

Why here and not in the admin skin: a diagram drawn in the browser must pass exactly the checks a file on
disk passes (``check_bpmn``: SpiffWorkflow parse, our lane/task/end-event conventions, safe expressions,
registered connectors) and must become the same kind of ``ProcessVersion`` row that ``flask defs load``
makes, so running cases keep their version whichever way a type was changed.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.bpmn_conventions import bpmn_warnings, check_bpmn
from app.catalog.branch_coverage import path_problems
from app.catalog.config import candidate_problems, publish_changes
from app.catalog.definitions import BPMN_FILE, DEFAULT_DICTIONARIES, vocabulary
from app.catalog.models import BusinessType, ProcessDraft, ProcessVersion
from app.clock import in_beijing
from app.engine.message_catalogue import palette_entries
from app.engine.models import WorkflowState
from app.errors import NotFound, ValidationFailed
from app.identity.actor import Actor
from app.security import audit

MAX_BPMN_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class DiagramProblem:
    """One validation finding as the designer shows it: on the element (id and name, when known), with a
    Chinese reason; ``severity`` "error" blocks publishing, "warning" is shown but does not."""

    element: str | None
    message: str
    line: int | None
    name: str | None = None
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def label(self) -> str:
        """How a list names the element: 名称（id）, the id alone, or 流程 for the diagram as a whole."""
        if not self.element:
            return "流程"
        return f"{self.name}（{self.element}）" if self.name else self.element

    def as_dict(self) -> dict[str, Any]:
        return {"element": self.element, "name": self.name, "message": self.message, "line": self.line,
                "severity": self.severity}


def palette_vocabulary(root: Path, db_roles: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The choices the designer's properties panel offers: roles for lanes (roles.yaml and ``db_roles``, the
    roles operators created, app.identity.roles.role_names), forms for user tasks, stages, and the registered
    connectors for service tasks, the messages a wait may name (app.engine.message_catalogue) — the same
    vocabulary validation uses."""
    folder = root / "dictionaries" if (root / "dictionaries").is_dir() else DEFAULT_DICTIONARIES
    names = {r["code"]: r["name"] for r in yaml.safe_load((folder / "roles.yaml").read_text(encoding="utf-8"))["roles"]}
    roles = [{"code": c, "name": n} for c, n in {**names, **(db_roles or {})}.items()]
    vocab = vocabulary(root, db_roles or ())
    forms = []
    for path in sorted((root / "forms").glob("*.json")):
        try:
            title = json.loads(path.read_text(encoding="utf-8")).get("title", "")
        except (ValueError, UnicodeDecodeError):
            title = ""
        forms.append({"key": path.stem, "title": title or path.stem})
    return {"roles": roles,
            "stages": list(vocab.stages), "forms": forms, "connectors": sorted(vocab.operators),
            "outcomes": sorted(vocab.outcomes), "messages": palette_entries()}


def business_type(session: Session, code: str) -> BusinessType:
    bt = session.get(BusinessType, code)
    if bt is None:
        raise NotFound(f"未找到业务类型：{code}", code="business_type_not_found")
    return bt


def versions(session: Session, code: str) -> list[dict[str, Any]]:
    """Every version of a type, newest first, with how many running cases are still on it."""
    bt = business_type(session, code)
    running = dict(session.execute(
        select(WorkflowState.process_version_id, func.count()).join(
            ProcessVersion, ProcessVersion.id == WorkflowState.process_version_id)
        .where(ProcessVersion.business_type_code == code, WorkflowState.completed.is_(False))
        .group_by(WorkflowState.process_version_id)).all())
    rows = session.execute(select(ProcessVersion).where(ProcessVersion.business_type_code == code)
                           .order_by(ProcessVersion.version_no.desc())).scalars()
    # Beijing time: the designer shows the ISO text as it is
    return [{"id": v.id, "version_no": v.version_no, "created_at": in_beijing(v.created_at).isoformat(),
             "current": v.id == bt.current_version_id, "running_cases": running.get(v.id, 0)} for v in rows]


def version_of(session: Session, code: str, version_id: str) -> ProcessVersion:
    version = session.get(ProcessVersion, version_id)
    if version is None or version.business_type_code != code:
        raise NotFound("未找到该流程版本", code="process_version_not_found")
    return version


def get_draft(session: Session, code: str) -> ProcessDraft | None:
    business_type(session, code)
    return session.execute(select(ProcessDraft).where(ProcessDraft.business_type_code == code)).scalar_one_or_none()


def save_draft(session: Session, actor: Actor, code: str, xml: str, based_on: str | None = None) -> ProcessDraft:
    """Keep the analyst's work without publishing it; drafts need not be valid yet."""
    actor.require("defs:manage")
    _check_size(xml)
    draft = get_draft(session, code)
    if draft is None:
        draft = ProcessDraft(business_type_code=code, bpmn_xml=xml)
        draft.ensure_id()
        session.add(draft)
    draft.bpmn_xml, draft.author_id = xml, actor.user_id
    if based_on:
        draft.based_on_version_id = version_of(session, code, based_on).id
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="definition.draft.save", object_type="process_draft",
                 object_id=draft.id, after={"code": code, "bytes": len(xml.encode("utf-8"))})
    return draft


def validate(root: Path, code: str, xml: str, roles: Iterable[str] = (),
             session: Session | None = None) -> list[DiagramProblem]:
    """Every finding on a diagram that is not on disk (yet), errors first; ``roles``: lane roles beyond
    roles.yaml. The one function that decides whether a diagram may be published (``publish`` and the dry
    run refuse exactly when it returns an error): the loader's own checks (``check_bpmn``, what
    ``flask defs check`` runs), then — on a diagram without errors — the path check, dry runs that must take
    every branch (``branch_coverage``); warnings (unconnected, unnamed, overlapping, waits without a timer)
    never block. With ``session`` the whole type is checked as publishing checks it (``candidate_problems``:
    the current version's business.yaml and checklist against this diagram, roles from the database)."""
    _check_size(xml)
    data = xml.encode("utf-8")
    if session is not None:
        errors = candidate_problems(session, root, code, bpmn=xml)
    else:
        errors = check_bpmn(data, file=BPMN_FILE, code=code, forms_dir=root / "forms",
                            vocab=vocabulary(root, roles))[1]
    names = _element_names(data)
    seen: dict[tuple[Any, ...], DiagramProblem] = {}
    for e in errors:
        if (e.file or BPMN_FILE).endswith(BPMN_FILE):
            problem = DiagramProblem(e.element, e.reason, e.line, names.get(e.element or ""))
        else:  # another file of the type disagrees with the diagram (e.g. business.yaml stage_permissions)
            where = f"{e.file}{'（' + e.element + '）' if e.element else ''}"
            problem = DiagramProblem(None, f"{where}：{e.reason}", None)
        seen.setdefault((problem.element, problem.message), problem)
    if not seen:
        for p in path_problems(root, code, data):
            seen.setdefault((p.element, p.message), DiagramProblem(p.element, p.message, None,
                                                                    names.get(p.element or "")))
    for w in bpmn_warnings(data):
        seen.setdefault((w.element, w.reason), DiagramProblem(w.element, w.reason, w.line,
                                                              names.get(w.element or ""), "warning"))
    return list(seen.values())


def errors_only(problems: Iterable[DiagramProblem]) -> list[DiagramProblem]:
    return [p for p in problems if p.is_error]


def refusal(problems: Iterable[DiagramProblem]) -> list[str]:
    """The errors as the full Chinese lines a 422 lists (every one, none cut off)."""
    return [f"{p.label()}：{p.message}" for p in errors_only(problems)]


def _element_names(xml: bytes) -> dict[str, str]:
    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return {}
    return {str(el.get("id")): str(el.get("name")).strip() for el in root.iter()
            if isinstance(el.tag, str) and el.get("id") and (el.get("name") or "").strip()}


class DiagramRefused(ValidationFailed):
    """Publishing refused: ``findings`` are every problem of the check (errors and warnings), so the designer
    can mark them without checking the diagram a second time."""

    def __init__(self, findings: list[DiagramProblem]) -> None:
        super().__init__("流程图未通过校验，不能发布", errors={"bpmn": refusal(findings)})
        self.findings = findings


def publish(session: Session, actor: Actor, root: Path, code: str, xml: str,
            roles: Iterable[str] = ()) -> tuple[ProcessVersion, str]:
    """A valid diagram becomes the type's new current version (the rest of the type as it is now);
    ``roles`` as for ``validate`` — the same call decides both."""
    actor.require("defs:manage")
    bt = business_type(session, code)
    findings = validate(root, code, xml, roles, session)
    if errors_only(findings):
        raise DiagramRefused(findings)
    version, message = publish_changes(session, actor, root, code, bpmn=xml, action="definition.publish_diagram")
    if not bt.enabled:  # a type created by an import goes live with its own diagram
        bt.enabled = True
        audit.record(session, actor_id=actor.user_id, action="definition.release", object_type="business_type",
                     object_id=code, before={"enabled": False},
                     after={"enabled": True, "version_no": version.version_no})
        message += "；该业务类型已上线，申请人和窗口可以办理"
    draft = get_draft(session, code)
    if draft is not None:
        session.delete(draft)
    return version, message


def _check_size(xml: str) -> None:
    if not xml or not xml.strip():
        raise ValidationFailed("流程图内容为空", errors={"bpmn": ["流程图内容为空"]})
    if len(xml.encode("utf-8")) > MAX_BPMN_BYTES:
        raise ValidationFailed("流程图过大（上限 2 MB）", errors={"bpmn": ["流程图过大（上限 2 MB）"]})
