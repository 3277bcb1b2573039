"""Which business types give a role work: the lanes of their process definitions name roles (a lane's role does
that stage's tasks). Read by the role pages: a role still named by a lane cannot be deleted."""
from __future__ import annotations

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import BusinessType, ProcessDraft, ProcessVersion
from app.catalog.service import current_definitions

_BPMN_LANE = "{http://www.omg.org/spec/BPMN/20100524/MODEL}lane"


def lanes_naming(session: Session, code: str) -> list[str]:
    """Business types (current process version or a designer draft) with a lane named ``code``."""
    found: set[str] = set()
    current = session.execute(select(BusinessType.name, ProcessVersion.bpmn_xml)
                              .join(ProcessVersion, ProcessVersion.id == BusinessType.current_version_id)).all()
    drafts = session.execute(select(BusinessType.name, ProcessDraft.bpmn_xml)
                             .join(ProcessDraft, ProcessDraft.business_type_code == BusinessType.code)).all()
    for name, xml in [*current, *drafts]:
        root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
        if any((lane.get("name") or "").strip() == code for lane in root.iter(_BPMN_LANE)):
            found.add(name)
    return sorted(found)


def stage_roles(session: Session) -> dict[str, dict[str, list[str]]]:
    """Stage-level grants as the process definitions make them: {stage: {role code: [business type names]}}
    from the lanes of every current process version (a lane's role does that stage's tasks)."""
    out: dict[str, dict[str, list[str]]] = {}
    for bt, definition in current_definitions(session):
        for task in definition.user_tasks:
            names = out.setdefault(task.stage or "—", {}).setdefault(task.role or "—", [])
            if bt.name not in names:
                names.append(bt.name)
    return out
