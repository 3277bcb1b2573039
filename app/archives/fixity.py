"""The periodic fixity check (``fixity`` job, ``flask archives fixity``): each stored package is read back and
checked as a receiving archive would (app/archives/verify.py: signature, time stamp, each document's SHA-256)
and against what the database recorded when it was built (the package's SHA-256, each file's SHA-256, the
count). Oldest check first, a batch per run, one package per transaction; a package that changed — or can no
longer be read — is marked and audited once, when it turns bad, and shown on the archive page."""
from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.archives.eep import parse
from app.archives.models import ArchiveFile, ArchivePackage
from app.archives.verify import verify_package
from app.casefile.storage import Storage
from app.db import utcnow
from app.security import audit

log = logging.getLogger(__name__)


def problems_of(session: Session, storage: Storage, package: ArchivePackage, public_pem: bytes) -> list[str]:
    try:
        xml = storage.get(package.storage_key, tenant_id=package.tenant_id)
    except Exception as exc:  # missing, truncated or tampered ciphertext: the seal does not open
        return [f"封装包无法读取（{type(exc).__name__}）"]
    problems = []
    if hashlib.sha256(xml).hexdigest() != package.sha256:
        problems.append("封装包的SHA-256与归档时记录的不符")
    problems += verify_package(xml, public_pem).problems
    try:
        parsed = parse(xml)
    except ValueError:
        return problems  # verify_package said why
    recorded = {f.seq: f.sha256 for f in session.scalars(select(ArchiveFile)
                                                         .where(ArchiveFile.package_id == package.id))}
    actual = {d["seq"]: _digest(d["data"]) for d in parsed.documents}
    problems += [f"文档 {seq} 的SHA-256与归档时记录的不符" for seq in sorted(recorded)
                 if actual.get(seq) != recorded[seq]]
    if set(actual) != set(recorded):
        problems.append("封装包的文档与归档时记录的不符")
    return problems


def _digest(data: str) -> str:
    try:
        return hashlib.sha256(base64.b64decode(data, validate=True)).hexdigest()
    except ValueError:
        return ""


def check_one(session: Session, storage: Storage, package_id: str, public_pem: bytes) -> bool:
    """Re-verify one package; True when it is intact."""
    package = session.get(ArchivePackage, package_id, populate_existing=True)
    if package is None:
        return True
    problems = problems_of(session, storage, package, public_pem)
    was_ok = package.fixity_ok
    package.fixity_checked_at, package.fixity_ok = utcnow(), not problems
    package.fixity_problem = "；".join(problems)[:500] or None
    if problems and was_ok is not False:
        log.error("archive %s changed: %s", package.archive_no, package.fixity_problem)
        audit.record(session, actor_id=None, action="archive.fixity_failed", object_type="archive_package",
                     object_id=package.id, tenant_id=package.tenant_id,
                     after={"archive_no": package.archive_no, "problems": problems[:5]})
    elif not problems and was_ok is False:
        audit.record(session, actor_id=None, action="archive.fixity_restored", object_type="archive_package",
                     object_id=package.id, tenant_id=package.tenant_id, after={"archive_no": package.archive_no})
    return not problems


@dataclass(frozen=True)
class FixityRun:
    checked: int
    failed: int

    def __str__(self) -> str:
        return f"已复核 {self.checked} 个档案封装包，{self.failed} 个与归档时不符"


def check_due(session: Session, storage: Storage, *, every_days: int = 30, limit: int = 200,
              ids: list[str] | None = None) -> FixityRun:
    """The packages not checked for ``every_days`` (all of ``ids`` when given), oldest check first."""
    from app.integrations.answers import each_in_own_transaction
    from app.registry.checkpoints import office_keys

    public_pem = office_keys()[1]
    if ids is None:
        due = utcnow() - timedelta(days=every_days)
        ids = list(session.scalars(select(ArchivePackage.id).where(
            (ArchivePackage.fixity_checked_at.is_(None)) | (ArchivePackage.fixity_checked_at <= due))
            .order_by(ArchivePackage.fixity_checked_at).limit(limit).execution_options(all_tenants=True)))
    results = each_in_own_transaction(session, ids, lambda pid: check_one(session, storage, pid, public_pem))
    return FixityRun(len(results), sum(1 for ok in results if not ok))


def summary(session: Session) -> dict[str, object]:
    """The figures of the archive page: packages, last check, how many failed (scoped to the viewer)."""
    total, last = session.execute(select(func.count(), func.max(ArchivePackage.fixity_checked_at))).one()
    failed = list(session.scalars(select(ArchivePackage).where(ArchivePackage.fixity_ok.is_(False))
                                  .order_by(ArchivePackage.archive_no).limit(50)))
    return {"total": int(total or 0), "last_check": last, "failed": failed}
