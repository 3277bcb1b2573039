"""Definitions on disk → versioned rows. Loading is idempotent: unchanged content keeps its version,
changed content becomes version n+1 and the type's current version; running cases keep theirs."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.catalog.definitions import BusinessTypeDef, load_all
from app.catalog.models import BusinessType, ProcessVersion
from app.catalog.stored import definition_dict, definition_from_dict
from app.engine.specs import parse_bpmn, spec_to_json
from app.errors import NotFound
from app.security import audit

__all__ = ["business_type_names", "current_definitions", "current_version", "definition_by_version",
           "definition_dict", "enabled_definitions", "list_business_types", "publish_definition", "sync_definitions",
           "version_definition"]


def sync_definitions(session: Session, root: Path, actor_id: str | None = None) -> list[str]:
    """Load every type under ``root``; return one line per type saying what happened."""
    from app.identity.roles import role_names  # roles operators created may name lanes too

    report = []
    for d in load_all(root, roles=role_names(session)):
        report.append(_sync_type(session, d, actor_id))
    return report


def _sync_type(session: Session, d: BusinessTypeDef, actor_id: str | None) -> str:
    return publish_definition(session, d, actor_id)[1]


def publish_definition(session: Session, d: BusinessTypeDef, actor_id: str | None) -> tuple[ProcessVersion, str]:
    """Make ``d`` the type's current version: an existing version with the same content hash, else n+1.

    Shared by ``flask defs load`` and the designer's publish, so both make the same kind of rows.
    """
    bt = session.get(BusinessType, d.code)
    if bt is None:
        bt = BusinessType(code=d.code, name=d.name, category=d.category)
        session.add(bt)
        session.flush()
    bt.name, bt.category = d.name, d.category
    existing = session.execute(select(ProcessVersion).where(
        ProcessVersion.business_type_code == d.code, ProcessVersion.content_sha256 == d.content_sha256,
    )).scalar_one_or_none()
    if existing is not None:
        if bt.current_version_id != existing.id:
            bt.current_version_id = existing.id
            return existing, f"{d.code}: 切换到已有版本 v{existing.version_no}"
        return existing, f"{d.code}: 未变化 (v{existing.version_no})"
    last = session.execute(select(func.max(ProcessVersion.version_no))
                           .where(ProcessVersion.business_type_code == d.code)).scalar() or 0
    version = ProcessVersion(
        business_type_code=d.code, version_no=last + 1, content_sha256=d.content_sha256,
        process_id=d.process_id, bpmn_xml=d.bpmn.decode("utf-8"),
        spec_json=spec_to_json(parse_bpmn(d.bpmn, d.process_id)), definition=definition_dict(d),
    )
    version.ensure_id()
    session.add(version)
    session.flush()
    bt.current_version_id = version.id
    audit.record(session, actor_id=actor_id, action="definition.publish", object_type="process_version",
                 object_id=version.id, after={"code": d.code, "version_no": version.version_no,
                                              "sha256": d.content_sha256})
    return version, f"{d.code}: 新版本 v{version.version_no}"


# A process version never changes once stored, so its typed definition can be kept per version (read-only:
# callers must not mutate it). Spares loading the row with its BPMN and serialized spec, and rebuilding the
# dataclasses, several times per request.
_definitions: dict[str, BusinessTypeDef] = {}


def definition_by_version(session: Session, version_id: str) -> BusinessTypeDef:
    definition = _definitions.get(version_id)
    if definition is None:
        stored = session.execute(select(ProcessVersion.definition)
                                 .where(ProcessVersion.id == version_id)).scalar_one()
        definition = _definitions[version_id] = definition_from_dict(stored)
    return definition


def version_definition(version: ProcessVersion) -> BusinessTypeDef:
    """The typed definition of a version row already loaded (same cache as ``definition_by_version``)."""
    definition = _definitions.get(version.id)
    if definition is None:
        definition = _definitions[version.id] = definition_from_dict(version.definition)
    return definition


def enabled_definitions(session: Session) -> list[tuple[int, BusinessTypeDef]]:
    """(version number, definition) of every enabled type's current version, by code — one light query."""
    rows = session.execute(
        select(ProcessVersion.id, ProcessVersion.version_no)
        .join(BusinessType, ProcessVersion.id == BusinessType.current_version_id)
        .where(BusinessType.enabled.is_(True)).order_by(BusinessType.code)).all()
    return [(version_no, definition_by_version(session, version_id)) for version_id, version_no in rows]


def current_definitions(session: Session) -> list[tuple[BusinessType, BusinessTypeDef]]:
    """Every type, released or not, with its current version's definition, by code (the analyst's pages: what
    still refers to a dictionary entry, which forms and lanes are in use)."""
    rows = session.execute(select(BusinessType, ProcessVersion.id)
                           .join(ProcessVersion, ProcessVersion.id == BusinessType.current_version_id)
                           .order_by(BusinessType.code)).all()
    return [(bt, definition_by_version(session, version_id)) for bt, version_id in rows]


def list_business_types(session: Session, *, unreleased: bool = False) -> list[tuple[BusinessType, ProcessVersion]]:
    """The types applicants and clerks see; ``unreleased`` adds the ones an analyst is still preparing
    (``enabled`` False: a type created by importing a diagram goes live when its own diagram is published)."""
    query = select(BusinessType, ProcessVersion).join(ProcessVersion,
                                                      ProcessVersion.id == BusinessType.current_version_id)
    if not unreleased:
        query = query.where(BusinessType.enabled.is_(True))
    rows = session.execute(query.order_by(BusinessType.code)).all()
    return [(bt, pv) for bt, pv in rows]


def business_type_names(session: Session) -> dict[str, str]:
    """code → name of the enabled types, for filters and lists (without loading the 50 KB definitions)."""
    rows = session.execute(select(BusinessType.code, BusinessType.name).where(BusinessType.enabled.is_(True))
                           .order_by(BusinessType.code)).all()
    return {code: name for code, name in rows}


def current_version(session: Session, code: str, *, unreleased: bool = False) -> ProcessVersion:
    """``unreleased``: also a type not yet released (the analyst's pages); applicants' and clerks' never."""
    # The type and its current version in one statement (issue 18: two per new application).
    row = session.execute(select(BusinessType, ProcessVersion)
                          .outerjoin(ProcessVersion, ProcessVersion.id == BusinessType.current_version_id)
                          .where(BusinessType.code == code)).first()
    bt, version = (row[0], row[1]) if row is not None else (None, None)
    if bt is None or not (bt.enabled or unreleased) or bt.current_version_id is None:
        raise NotFound(f"未找到业务类型：{code}", code="business_type_not_found")
    assert version is not None
    return version
