"""Use cases of the archive pages: search (业务号, 不动产单元号, holder by blind index — never a scan of
decrypted text), 调阅 (a consultation needs a stated purpose, is audited on the hash chain, and opens the
package read-only to the one who asked, for a limited time) and reading a document of it (access-logged)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.archives.eep import document_content, parse
from app.archives.models import ArchiveConsultation, ArchiveFile, ArchiveHolder, ArchivePackage
from app.casefile.storage import Storage
from app.db import utcnow
from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.security import audit
from app.security.fields import blind_index

PERMISSION = "archive:read"
CONSULTATION_HOURS = 4
PURPOSE_MIN, PURPOSE_MAX = 4, 200


@dataclass(frozen=True)
class Query:
    business_no: str = ""
    unit_code: str = ""
    holder_id_number: str = ""

    @property
    def empty(self) -> bool:
        return not (self.business_no or self.unit_code or self.holder_id_number)


def search(session: Session, actor: Actor, query: Query, limit: int = 50) -> list[ArchivePackage]:
    """Packages matching every given criterion exactly, newest first (the session is scoped to the actor's
    district like every list)."""
    actor.require(PERMISSION)
    if query.empty:
        return list(session.scalars(select(ArchivePackage).order_by(ArchivePackage.built_at.desc()).limit(limit)))
    stmt = select(ArchivePackage)
    if query.business_no:
        stmt = stmt.where(ArchivePackage.business_no == query.business_no.strip())
    if query.unit_code:
        stmt = stmt.where(ArchivePackage.unit_code == query.unit_code.strip())
    if query.holder_id_number:
        bidx = blind_index(query.holder_id_number.strip())
        stmt = stmt.where(ArchivePackage.id.in_(select(ArchiveHolder.package_id).where(ArchiveHolder.bidx == bidx)))
    return list(session.scalars(stmt.order_by(ArchivePackage.built_at.desc()).limit(limit)))


def get_package(session: Session, actor: Actor, package_id: str) -> ArchivePackage:
    actor.require(PERMISSION)
    package = session.get(ArchivePackage, package_id)
    scope = actor.tenant_scope
    if package is None or (scope is not None and package.tenant_id not in scope):
        raise NotFound("档案不存在", code="archive_not_found")
    return package


def consult(session: Session, actor: Actor, package_id: str, purpose: str) -> ArchiveConsultation:
    """调阅: refused without a purpose (a field error naming it); recorded and audited otherwise."""
    package = get_package(session, actor, package_id)
    purpose = " ".join((purpose or "").split())
    if len(purpose) < PURPOSE_MIN or len(purpose) > PURPOSE_MAX:
        raise ValidationFailed(f"请填写调阅目的（{PURPOSE_MIN}–{PURPOSE_MAX} 字）", field="purpose",
                               code="purpose_required")
    now = utcnow()
    consultation = ArchiveConsultation(tenant_id=package.tenant_id, package_id=package.id, user_id=actor.user_id,
                                       purpose=purpose, opened_at=now,
                                       expires_at=now + timedelta(hours=CONSULTATION_HOURS))
    consultation.ensure_id()
    session.add(consultation)
    audit.record(session, actor_id=actor.user_id, action="archive.consult", object_type="archive_package",
                 object_id=package.id, tenant_id=package.tenant_id,
                 after={"archive_no": package.archive_no, "consultation": consultation.id, "purpose": purpose})
    return consultation


def open_consultation(session: Session, actor: Actor, consultation_id: str) -> tuple[ArchiveConsultation,
                                                                                       ArchivePackage,
                                                                                       list[ArchiveFile]]:
    """The consultation's package and file list, for the one who opened it and while it lasts."""
    actor.require(PERMISSION)
    consultation = session.get(ArchiveConsultation, consultation_id)
    if consultation is None or consultation.user_id != actor.user_id:
        raise NotFound("调阅记录不存在", code="consultation_not_found")
    if consultation.expires_at <= utcnow():
        raise PermissionDenied("本次调阅已过期，请重新申请调阅", code="consultation_expired")
    package = get_package(session, actor, consultation.package_id)
    files = list(session.scalars(select(ArchiveFile).where(ArchiveFile.package_id == package.id)
                                 .order_by(ArchiveFile.seq)))
    return consultation, package, files


def read_document(session: Session, storage: Storage, actor: Actor, consultation_id: str,
                  seq: int) -> tuple[dict[str, Any], bytes]:
    """One document of a consulted package (metadata, bytes), access-logged."""
    consultation, package, _files = open_consultation(session, actor, consultation_id)
    parsed = parse(storage.get(package.storage_key, tenant_id=package.tenant_id))
    try:
        meta, content = document_content(parsed, seq)
    except KeyError:
        raise NotFound("该档案没有此文档", code="archive_document_not_found") from None
    audit.record_access(session, actor_id=actor.user_id, action="archive.document", object_type="archive_package",
                        object_id=package.id, tenant_id=package.tenant_id,
                        after={"consultation": consultation.id, "seq": seq})
    return meta, content
