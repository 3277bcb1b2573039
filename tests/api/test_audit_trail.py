"""Every state change leaves an audit entry; the chain detects an edited entry."""
from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select, update
from support.cases import complete_stage


def test_the_lifecycle_is_audited_and_the_chain_verifies(login: Any, seeded: Any, submitted_transfer: dict,
                                                        owner_database_url: str) -> None:
    from app.security.audit import verify_chain
    from app.security.models import AuditEntry

    complete_stage(login("xh_acceptor"), submitted_transfer["business_no"], "受理")
    db = seeded.extensions["db"]
    with db.unit_of_work() as session:
        actions = list(session.execute(select(AuditEntry.action).where(
            AuditEntry.object_id == submitted_transfer["id"]).order_by(AuditEntry.seq)).scalars())
        assert actions[0] == "case.create" and "case.submit" in actions and actions[-1] == "task.complete"
        assert verify_chain(session) == []
        target = session.execute(select(AuditEntry).where(AuditEntry.action == "case.submit")).scalar_one()
        seq = target.seq
    owner = create_engine(owner_database_url)  # the tables' owner: on PostgreSQL the app's role may not UPDATE
    with owner.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(action="case.tampered"))
    owner.dispose()
    with db.unit_of_work() as session:
        breaks = verify_chain(session)
    assert [b.seq for b in breaks] == [seq]
