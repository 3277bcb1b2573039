"""Building a case's archive package after the case ended (the ``archives`` job, or ``flask archives build``):
one case per transaction, idempotent (a case has at most one package: the job picks only cases without one,
and ``archive_package.case_id`` is unique), never in the request that ended the case.

A registered case waits until its certificates are rendered (制证 runs after 缮证: the package holds the signed
PDF). The office key signs the package and the TSA stamps it before anything is written, so the call is made
with no transaction open (app/integrations/answers.py); a TSA that cannot answer leaves the case for the next
run, unarchived rather than archived without its time stamp.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.archives import classes, contents, eep
from app.archives.models import ArchiveFile, ArchiveHolder, ArchivePackage
from app.casefile.models import Case
from app.casefile.storage import Storage, sha256_hex
from app.clock import CHINA
from app.db import utcnow
from app.integrations.client import ServiceUnavailable
from app.security import audit
from app.vocabulary import Channel

log = logging.getLogger(__name__)
SIGNER = "不动产登记机构电子签章"


def pending_case_ids(session: Session, limit: int = 50) -> list[str]:
    """Ended cases (with a business number: a draft withdrawn before submission leaves nothing to keep) that
    have no package yet, oldest end first. A 好差评 follow-up (channel ``internal``) is a record of the office's
    service, not a registration file: it stays with the cases and is not archived here."""
    return list(session.scalars(
        select(Case.id).where(Case.status.in_([str(s) for s in classes.ENDED]), Case.business_no.is_not(None),
                              Case.channel != Channel.INTERNAL,
                              ~exists().where(ArchivePackage.case_id == Case.id))
        .order_by(Case.completed_at, Case.id).limit(limit).execution_options(all_tenants=True)))


def build_package(session: Session, storage: Storage, case_id: str, font: Any) -> ArchivePackage | None:
    """Build, sign, stamp and store the package of ``case_id`` in ``session``'s transaction; None when the
    case is not ready (certificates being rendered), already archived, or the TSA cannot answer now."""
    from app.casefile.access import definition_of
    from app.identity.models import Tenant
    from app.integrations.tsa import request_token
    from app.registry.checkpoints import office_keys

    case = session.get(Case, case_id, populate_existing=True)
    if case is None or case.business_no is None or case.status not in classes.ENDED \
            or case.channel == Channel.INTERNAL:
        return None
    if session.scalar(select(ArchivePackage.id).where(ArchivePackage.case_id == case.id)) is not None:
        return None
    if contents.certificates_pending(session, case):
        return None
    cls = classes.class_of(case.status)
    now = utcnow()
    definition = definition_of(session, case)
    tenant = session.get(Tenant, case.tenant_id)
    office = tenant.name if tenant else case.tenant_id
    number = classes.archive_no(case.tenant_id, now.astimezone(CHINA).year, cls, case.business_no)
    title = f"{definition.name}（业务号 {case.business_no}）"
    docs = contents.documents(session, storage, case, font)
    desc = eep.Description(archive_no=number, fonds=office, year=now.astimezone(CHINA).year, retention=cls.retention,
                           category=cls.category, title=title, business_no=case.business_no,
                           unit_code=case.unit_code, business_type=definition.name, outcome=case.status,
                           created_at=now.astimezone(CHINA).isoformat(timespec="seconds"))
    signed = eep.build_signed_object(desc, docs, contents.actions(session, case, list(definition.legal_basis)),
                                     contents.agents(session, case, office))
    holders = contents.holder_indexes(session, case)
    tenant_id, business_no, unit_code, status, type_code = (case.tenant_id, case.business_no, case.unit_code,
                                                            case.status, case.business_type_code)
    data = eep.canonical(signed)
    digest = hashlib.sha256(data).digest()
    key_pem, cert_pem = office_keys()
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
    try:
        token = request_token(session, digest)  # no write yet: made with no transaction open
    except ServiceUnavailable as exc:
        log.warning("archive of case %s waits for the TSA: %s", business_no, exc.message)
        return None
    xml = eep.assemble(signed, signature=signature, cert_pem=cert_pem, signer=f"{office}{SIGNER}",
                       signed_at=desc.created_at, token=token)
    package = ArchivePackage(
        tenant_id=tenant_id, case_id=case_id, archive_no=number, business_no=business_no, unit_code=unit_code,
        business_type_code=type_code, title=title[:200], category=cls.category, retention=cls.retention,
        retain_until=classes.retain_until(cls, now), outcome=status, item_count=len(docs),
        page_count=sum(d.pages for d in docs), storage_key=storage.put(session, xml, tenant_id=tenant_id),
        size=len(xml), sha256=sha256_hex(xml), signed_digest=digest.hex(), stamped_at=stamped_at(token),
        built_at=now, fixity_checked_at=now, fixity_ok=True)
    package.ensure_id()
    session.add(package)
    session.flush()  # the files and holder rows reference it (no relationship orders those inserts)
    for seq, doc in enumerate(docs, start=1):
        session.add(ArchiveFile(tenant_id=tenant_id, package_id=package.id, seq=seq, kind=doc.kind,
                                title=doc.title[:200], filename=doc.filename[:200], content_type=doc.content_type,
                                size=len(doc.content), pages=doc.pages, sha256=doc.sha256))
    for bidx in sorted(holders):
        session.add(ArchiveHolder(tenant_id=tenant_id, package_id=package.id, bidx=bidx))
    audit.record(session, actor_id=None, action="archive.build", object_type="archive_package",
                 object_id=package.id, tenant_id=tenant_id,
                 after={"archive_no": number, "business_no": business_no, "retention": cls.retention,
                        "items": len(docs), "sha256": package.sha256,
                        "token": base64.b64encode(hashlib.sha256(token).digest()).decode()})
    return package


def stamped_at(token: bytes) -> datetime | None:
    """The time the TSA put in the token it just gave (checked against the digest by ``request_token``)."""
    try:
        from asn1crypto import cms  # on use (issue 18: no signature stack in a web worker)

        info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
        at: datetime | None = info["gen_time"].native
        return at
    except (ValueError, KeyError, TypeError):
        return None


def build_pending(session: Session, storage: Storage, font: Any, ids: list[str] | None = None) -> int:
    """The ``archives`` job: each ended case without a package, in its own transaction; returns how many
    packages were built."""
    from app.integrations.answers import each_in_own_transaction

    todo = pending_case_ids(session) if ids is None else ids
    done = each_in_own_transaction(session, todo, lambda case_id: build_package(session, storage, case_id, font))
    return sum(1 for p in done if p is not None)
