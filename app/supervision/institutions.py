"""Supervision of the institution channel (guide 三.6: "追踪、统计、分析，建立监管机制，对登记不规范或存在失信行为的应
关闭端口"): per institution, the cases its accounts filed, how many were refused (不予受理 / 不予登记), how many were
sent back for 补正 and the time they took; the port's state and its history of closings and reopenings."""
from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.casefile.models import Case, Task
from app.identity.actor import Actor
from app.identity.institutions import INSTITUTION_KINDS, get_institution, list_institutions
from app.identity.models import Institution, User
from app.security.models import AuditEntry
from app.supervision.stats import _hours
from app.vocabulary import CaseStatus

_REFUSED = (CaseStatus.REJECTED, CaseStatus.REFUSED)


def institution_figures(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every institution with its figures, aggregated in SQL over the cases its accounts filed (submitted)."""
    actor.require("institution:supervise")
    filed = Case.submitted_at.is_not(None)
    rows = session.execute(
        select(User.institution_id, func.count(Case.id),
               func.sum(case((Case.status.in_(_REFUSED), 1), else_=0)),
               func.avg(case((Case.completed_at.is_not(None), _hours(session, Case.submitted_at, Case.completed_at)))))
        .join(User, User.id == Case.applicant_id).where(filed, User.institution_id.is_not(None))
        .group_by(User.institution_id).execution_options(all_tenants=True)).all()
    corrections = dict(session.execute(
        select(User.institution_id, func.count(Task.id)).join(Case, Case.id == Task.case_id)
        .join(User, User.id == Case.applicant_id)
        .where(Task.role == "applicant", User.institution_id.is_not(None))
        .group_by(User.institution_id).execution_options(all_tenants=True)).all())
    accounts = dict(session.execute(select(User.institution_id, func.count(User.id))
                                    .where(User.institution_id.is_not(None)).group_by(User.institution_id)).all())
    figures = {org_id: {"filed": int(n or 0), "refused": int(r or 0), "hours": h} for org_id, n, r, h in rows}
    listed = []
    for org in list_institutions(session):
        f = figures.get(org.id, {"filed": 0, "refused": 0, "hours": None})
        listed.append({**_shown(org), "accounts": int(accounts.get(org.id, 0)), "cases_filed": f["filed"],
                       "cases_refused": f["refused"], "corrections": int(corrections.get(org.id, 0)),
                       "average_hours": round(float(f["hours"]), 1) if f["hours"] is not None else None})
    return listed


def _shown(org: Institution) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "uscc": org.uscc, "type": org.institution_type,
            "type_label": INSTITUTION_KINDS.get(org.institution_type, org.institution_type),
            "port_open": org.port_open, "port_reason": org.port_reason,
            "port_changed_at": org.port_changed_at.isoformat() if org.port_changed_at else None}


def institution_detail(session: Session, actor: Actor, institution_id: str) -> dict[str, Any]:
    """One institution with the history of its port (from the audit chain: who, when, why), newest first."""
    actor.require("institution:supervise")
    org = get_institution(session, institution_id)
    entries = session.execute(select(AuditEntry).where(
        AuditEntry.object_type == "institution", AuditEntry.object_id == org.id,
        AuditEntry.action.in_(("institution.port_close", "institution.port_open")))
        .order_by(AuditEntry.seq.desc())).scalars().all()
    ids = {e.actor_id for e in entries if e.actor_id}
    names = {uid: name for uid, name in session.execute(select(User.id, User.username).where(User.id.in_(ids)))}
    history = [{"action": "close" if e.action.endswith("close") else "open", "at": e.at.isoformat(),
                "by": names.get(e.actor_id or "", e.actor_id), "reason": (e.after or {}).get("reason")}
               for e in entries]
    return {**_shown(org), "port_history": history}
