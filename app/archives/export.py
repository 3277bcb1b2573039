"""Export to the external archive system (档案馆 / 数字档案室), in two ways that may both be configured:

- a directory drop (``ARCHIVE_EXPORT_DIR``): ``<档号>.xml`` with a ``<档号>.xml.sha256`` beside it, each written
  to a temporary name and renamed, so a receiving system polling the directory never reads half a file;
- the ``archive`` interface (app/integrations/adapters/archive.py: timeout, retries, breaker, call log; the
  simulator receives in development): ``POST /archive/packages`` with the EEP XML, its 档号 and SHA-256,
  answered with a receipt number that is kept on the package.

The ``archive_export`` job takes each package not yet sent, one per transaction; the HTTP call is made before
the transaction writes anything (app/integrations/answers.py) and a receiver that is down leaves the package
for the next run. Resending is harmless: the receiver acknowledges a 档号 it already holds with the same receipt.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.archives.models import ArchivePackage
from app.casefile.storage import Storage
from app.db import utcnow
from app.integrations.adapters.archive import send_package
from app.integrations.client import ServiceUnavailable
from app.security import audit

log = logging.getLogger(__name__)


def drop_to_directory(directory: Path, archive_no: str, xml: bytes, sha256: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{archive_no}.xml"
    for path, data in ((target, xml), (directory / f"{archive_no}.xml.sha256", f"{sha256}  {target.name}\n".encode())):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return target


def export_one(session: Session, storage: Storage, package_id: str, directory: Path | None) -> bool:
    package = session.get(ArchivePackage, package_id, populate_existing=True)
    if package is None or (package.exported_http_at is not None
                           and (directory is None or package.exported_dir_at is not None)):
        return False
    xml = storage.get(package.storage_key, tenant_id=package.tenant_id)
    receipt = None
    if package.exported_http_at is None:
        try:
            receipt = send_package(session, package.archive_no, xml, package.sha256)
        except ServiceUnavailable as exc:
            log.warning("archive %s not exported yet: %s", package.archive_no, exc.message)
    package = session.get(ArchivePackage, package_id, populate_existing=True)
    assert package is not None
    now = utcnow()
    if directory is not None and package.exported_dir_at is None:
        drop_to_directory(directory, package.archive_no, xml, package.sha256)
        package.exported_dir_at = now
    if receipt:
        package.exported_http_at, package.export_receipt = now, receipt[:64]
    if receipt or package.exported_dir_at == now:
        audit.record(session, actor_id=None, action="archive.export", object_type="archive_package",
                     object_id=package.id, tenant_id=package.tenant_id,
                     after={"archive_no": package.archive_no, "receipt": receipt,
                            "directory": package.exported_dir_at == now})
    return bool(receipt)


def export_pending(session: Session, storage: Storage, directory: Path | None, limit: int = 50) -> int:
    """The ``archive_export`` job; returns how many packages the archive system acknowledged."""
    from app.integrations.answers import each_in_own_transaction

    stmt = select(ArchivePackage.id).where(ArchivePackage.exported_http_at.is_(None))
    if directory is not None:
        stmt = select(ArchivePackage.id).where(ArchivePackage.exported_http_at.is_(None)
                                               | ArchivePackage.exported_dir_at.is_(None))
    ids = list(session.scalars(stmt.order_by(ArchivePackage.built_at).limit(limit)
                               .execution_options(all_tenants=True)))
    done = each_in_own_transaction(session, ids, lambda pid: export_one(session, storage, pid, directory))
    return sum(done)
