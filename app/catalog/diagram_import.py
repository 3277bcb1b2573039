"""Use cases of "导入其他建模工具的流程图": propose a mapping for an uploaded diagram, then apply the analyst's
mapping and keep the result as the draft of an existing or a new business type.

Why a draft and not a publish: an imported diagram is a starting point. It is checked at once with the
designer's own validation (``designer.validate``) and the problems are shown, but the analyst continues in the
designer (dry run, condition builder, publish), where every other change of a diagram is made.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy.orm import Session

from app.catalog import designer
from app.catalog.config import business_of, publish_files, type_files
from app.catalog.foreign_bpmn import NS, ForeignDiagram, ForeignDiagramError, read_foreign
from app.catalog.foreign_import import Converted, convert
from app.catalog.foreign_mapping import Proposal, decision_choices, propose
from app.catalog.models import BusinessType, ProcessDraft
from app.catalog.service import current_version, version_definition
from app.errors import ValidationFailed
from app.identity.actor import Actor
from app.identity.roles import role_names
from app.security import audit

TYPE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class NewType:
    """A business type to create for the import: a copy of ``template``'s current definition (guide,
    materials, forms, fees) under a new code and name, whose diagram the import then replaces as a draft."""

    code: str
    name: str
    template: str


@dataclass
class ImportResult:
    code: str
    draft: ProcessDraft
    converted: Converted
    problems: list[dict[str, Any]]  # mapping problems, then the designer's findings (``severity`` error|warning)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p.get("severity", "error") == "error"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p.get("severity") == "warning"]


def refused(exc: ForeignDiagramError) -> ValidationFailed:
    """A file that cannot be imported, as the typed error every skin renders (422, Chinese, every reason)."""
    return ValidationFailed("流程图无法导入：" + exc.problems[0], errors={"file": exc.problems})


def read(data: bytes, filename: str) -> ForeignDiagram:
    try:
        return read_foreign(data, filename)
    except ForeignDiagramError as exc:
        raise refused(exc) from exc


def proposal(session: Session, root: Path, diagram: ForeignDiagram, process_id: str | None,
             target: str | None) -> Proposal:
    """The mapping the page starts from; conditions may read the target type's application form fields."""
    try:
        return propose(diagram, process_id, palette(session, root), _form_fields(session, target),
                       decision_choices(root / "forms"))
    except ForeignDiagramError as exc:
        raise refused(exc) from exc


def palette(session: Session, root: Path) -> dict[str, Any]:
    return designer.palette_vocabulary(root, role_names(session))


def import_as_draft(session: Session, actor: Actor, root: Path, diagram: ForeignDiagram, mapping: dict[str, Any],
                    *, code: str | None = None, new_type: NewType | None = None) -> ImportResult:
    """Apply ``mapping`` and save the result as the draft of type ``code`` or of ``new_type`` (created here)."""
    actor.require("defs:manage")
    if new_type is not None:
        code = _create_type(session, actor, root, new_type)
    if not code:
        raise ValidationFailed("请选择导入到哪个业务类型", errors={"target": ["请选择已有业务类型或新建业务类型"]})
    bt = designer.business_type(session, code)
    try:
        converted = convert(diagram, mapping, code, bt.name)
    except ForeignDiagramError as exc:
        raise refused(exc) from exc
    draft = designer.save_draft(session, actor, code, converted.xml)
    # The designer's own decision, the whole type checked as publishing checks it (stage permissions …).
    checked = [p.as_dict() for p in designer.validate(root, code, converted.xml, role_names(session), session)]
    audit.record(session, actor_id=actor.user_id, action="definition.foreign_import", object_type="business_type",
                 object_id=code, after={"source": diagram.exporter, "process": mapping.get("process"),
                                        "errors": sum(1 for p in checked if p["severity"] == "error")
                                        + len(converted.problems)})
    return ImportResult(code, draft, converted, converted.problems + checked)


def _create_type(session: Session, actor: Actor, root: Path, new: NewType) -> str:
    errors: dict[str, list[str]] = {}
    if not TYPE_CODE.match(new.code):
        errors["new_code"] = ["业务类型代码应为小写字母开头，只含小写字母、数字和下划线（2–64 位）"]
    elif session.get(BusinessType, new.code) is not None:
        errors["new_code"] = [f"业务类型代码 {new.code} 已存在"]
    if not new.name.strip():
        errors["new_name"] = ["请填写新业务类型的名称"]
    template = session.get(BusinessType, new.template) if new.template else None
    if template is None or not template.enabled or template.current_version_id is None:
        errors["template"] = ["请选择新业务类型沿用其办事指南、材料和表单的已有业务类型"]
    if errors:
        raise ValidationFailed("新建业务类型的信息不完整", errors=errors)
    base = current_version(session, new.template)
    business = {**business_of(base), "code": new.code, "name": new.name.strip()}
    files = type_files(base, business=business, bpmn=_renamed(base.bpmn_xml, base.process_id, new.code))
    files = {rel.replace(f"processes/{new.template}/", f"processes/{new.code}/"): data for rel, data in files.items()}
    version, _ = publish_files(session, root, new.code, files, actor.user_id)
    # Not offered to applicants or clerks until the analyst publishes the imported diagram (designer.publish):
    # until then its version is the template's route, which is not the process the office drew.
    designer.business_type(session, new.code).enabled = False
    audit.record(session, actor_id=actor.user_id, action="definition.type_create", object_type="business_type",
                 object_id=new.code, after={"template": new.template, "version_no": version.version_no,
                                                  "released": False})
    return new.code


def _renamed(xml: str, old: str, new: str) -> str:
    """The template's diagram under the new type's process id (the loader requires id = code)."""
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    for p in root.iterfind("bpmn:process", NS):
        if p.get("id") == old:
            p.set("id", new)
    for part in root.iterfind("bpmn:collaboration/bpmn:participant", NS):
        if part.get("processRef") == old:
            part.set("processRef", new)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _form_fields(session: Session, code: str | None) -> set[str]:
    if not code or session.get(BusinessType, code) is None:
        return set()
    definition = version_definition(current_version(session, code, unreleased=True))
    return set(definition.application_schema.get("properties", {}))

