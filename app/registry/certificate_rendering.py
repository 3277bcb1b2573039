"""制证: render, sign and store a certificate's PDF after the 缮证 that numbered it has committed (issue 18).

缮证 numbers the certificate, draws its verify code and keeps, encrypted on the row, the page it will carry
(``snapshot_page``: what the register said at 缮证) — all in the step's transaction, which then ends quickly
and releases the counter row. Rendering and signing (tens of milliseconds, the slowest part of the step) run
afterwards, one certificate per transaction (``render_pending``): soon after the request's response
(``render_soon``, best effort) and by the ``certificates`` job, which also retries one that failed. Until
then the certificate is 制证中: verifiable, but there is no PDF to download.

A process killed while rendering leaves a pending file no row names (the storage's ``sweep_pending`` removes
it) and the row still pending: the next run renders the same number again, so exactly one signed PDF carries it.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.storage import Storage, sha256_hex
from app.db import utcnow, work_after_response
from app.registry import signing
from app.registry.certificate_pdf import CertificatePage, render_certificate
from app.registry.certificate_plan import UnitPlan
from app.registry.models import Certificate
from app.security import audit
from app.security.fields import decrypt_json, encrypt_json
from app.vocabulary import CertificateStatus

log = logging.getLogger(__name__)
RENDER_SOON = "certificates_to_render"  # session.info: ids numbered in this transaction (see ``render_soon``)


def _aad(cert: Certificate) -> str:
    return f"certificate:page:{cert.ensure_id()}"


def snapshot_page(session: Session, cert: Certificate, page: CertificatePage) -> None:
    """Keep ``page`` on the (pending) certificate and ask for it to be rendered once this transaction commits."""
    cert.page_enc = encrypt_json(asdict(page), _aad(cert))
    session.info.setdefault(RENDER_SOON, []).append(cert.ensure_id())


def _page_of(cert: Certificate) -> CertificatePage:
    data: dict[str, Any] = decrypt_json(cert.page_enc or b"", _aad(cert))
    plan = data.get("plan")
    return CertificatePage(**{**data, "rows": [tuple(row) for row in data["rows"]],
                              "plan": UnitPlan(parcel=[[tuple(p) for p in poly] for poly in plan["parcel"]],
                                               building=[[tuple(p) for p in poly] for poly in plan["building"]],
                                               parcel_area=plan["parcel_area"], building_area=plan["building_area"])
                              if plan else None})


def render_one(session: Session, storage: Storage, certificate_id: str, keys: signing.KeyPaths,
               font: Any) -> bool:
    """Render, sign and store one pending certificate in ``session``'s transaction; False when it is not
    pending any more or another process is rendering it (``SKIP LOCKED`` on PostgreSQL)."""
    cert = session.execute(select(Certificate).where(Certificate.id == certificate_id,
                                                     Certificate.storage_key.is_(None),
                                                     Certificate.page_enc.is_not(None))
                           .with_for_update(skip_locked=True).execution_options(all_tenants=True,
                                                                                populate_existing=True)
                           ).scalar_one_or_none()
    if cert is None:
        return False
    page = _page_of(cert)
    pdf = signing.sign_pdf(render_certificate(page, font), reason=f"{page.title} {page.number}",
                           location=page.office, paths=keys)
    cert.storage_key = storage.put(session, pdf, tenant_id=cert.tenant_id)
    cert.sha256, cert.rendered_at, cert.page_enc = sha256_hex(pdf), utcnow(), None
    audit.record(session, actor_id=None, action="certificate.render", object_type="certificate",
                 object_id=cert.id, tenant_id=cert.tenant_id, after={"number": cert.number, "sha256": cert.sha256})
    if cert.case_id is not None and cert.status == CertificateStatus.VALID:  # 电子证照归集, now with the file's hash
        from app.registry.announce import announce_certificate

        announce_certificate(session, cert, page.verify_url)
        from app.registry.institution_copies import queue_copies

        queue_copies(session, cert, pdf)  # the 证明 back to the bank's receiving system, signed PDF and all
    return True


def render_at_once(session: Session, storage: Storage, cert: Certificate, keys: signing.KeyPaths, font: Any) -> None:
    """Render ``cert`` in the transaction that numbered it (the 无房证明, which its applicant waits for)."""
    session.flush()
    waiting = session.info.get(RENDER_SOON) or []
    if cert.id in waiting:
        waiting.remove(cert.id)
    render_one(session, storage, cert.id, keys, font)


def pending_ids(session: Session, limit: int = 100) -> list[str]:
    """Certificates 制证中 (a voided one is never rendered), oldest first."""
    return list(session.execute(select(Certificate.id).where(Certificate.storage_key.is_(None),
                                                            Certificate.page_enc.is_not(None),
                                                            Certificate.status != CertificateStatus.VOIDED)
                                .order_by(Certificate.issued_at).limit(limit)
                                .execution_options(all_tenants=True)).scalars())


def render_pending(session: Session, storage: Storage, keys: signing.KeyPaths, font: Any,
                   ids: list[str] | None = None, *, settled: bool = False) -> int:
    """The ``certificates`` job: render ``ids`` (default: every pending certificate), each in its own
    transaction committed by ``session``; one that fails is rolled back, logged and stays pending for the
    next run. Returns how many were rendered, or with ``settled`` how many did not fail (rendered, or found
    not pending: rendered meanwhile by the job)."""
    from app.integrations.answers import each_in_own_transaction

    todo = pending_ids(session) if ids is None else ids
    done = each_in_own_transaction(session, todo, lambda certificate_id: render_one(
        session, storage, certificate_id, keys, font))
    return len(done) if settled else sum(done)


def render_soon(session: Session) -> Callable[[], None] | None:
    """After ``session`` committed: the certificates it numbered, rendered once the response has gone (best
    effort: whatever it misses, the job renders)."""
    return work_after_response(session, RENDER_SOON, functools.partial(render_now, settled=True), "certificates")


def render_now(app: Any, ids: list[str] | None = None, *, settled: bool = False) -> int:
    """Render ``ids`` (default: all pending) in ``app`` now, outside any request: the after-response trigger and
    tests. (The scheduled job and ``flask registry render-certificates`` run ``render_pending`` under the job's
    lease; this may run beside them: a certificate being rendered is skipped, one rendered is not pending.)"""
    with app.app_context():
        config = app.extensions["certificates"]
        session = app.extensions["db"].session_factory()
        try:
            return render_pending(session, app.extensions["storage"], config.keys, config.font, ids, settled=settled)
        finally:
            session.close()
