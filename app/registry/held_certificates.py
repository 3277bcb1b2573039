"""The certificates and 登记证明 an account holds, for an institution to fetch electronically: a bank lists the
不动产登记证明 of its mortgages and downloads them through the API (guide 三.6: the 证明 goes back to the bank
electronically) instead of collecting paper at the window."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.models import Party
from app.identity.actor import Actor
from app.identity.institutions import require_institution
from app.registry.certificates import may_download
from app.registry.models import Certificate


def held_certificates(session: Session, actor: Actor, *, kind: str | None = None, since: datetime | None = None,
                      limit: int = 500) -> list[Certificate]:
    """Certificates whose holder is the actor's verified identity (an institution: its USCC), newest first;
    found through the cases where that identity is a party, then checked against the certificate's holders.
    Institution accounts only (``PermissionDenied`` otherwise)."""
    actor.require("application:read_own")
    require_institution(session, actor)
    if not actor.id_number_bidx:
        return []
    cases = select(Party.case_id).where(Party.id_number_bidx == actor.id_number_bidx)
    stmt = select(Certificate).where(Certificate.case_id.in_(cases)).order_by(Certificate.issued_at.desc())
    if kind:
        stmt = stmt.where(Certificate.kind == kind)
    if since is not None:
        stmt = stmt.where(Certificate.issued_at >= since)
    rows = session.execute(stmt.limit(limit).execution_options(all_tenants=True)).scalars()
    return [c for c in rows if may_download(actor, c)]
