"""好差评 figures for the statistics dashboard: ratings by office, type, stage, clerk and month, each with the
share of satisfied ratings (非常满意 + 满意 + 基本满意 over all), and the 差评 whose follow-up is still open.

Same filter as the other figures (time on the rating's own time, office, type); aggregated in the database."""
from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from app.casefile.models import Case
from app.catalog.models import BusinessType
from app.feedback.models import Rating
from app.feedback.scale import SATISFIED
from app.identity.models import Tenant, User
from app.vocabulary import FINAL_STATUSES


def _where(f: Any) -> list[Any]:
    start, end = f.bounds()
    conditions = [c for c in ((Rating.created_at >= start) if start else None,
                              (Rating.created_at < end) if end else None) if c is not None]
    if f.tenant_id:
        conditions.append(Rating.tenant_id == f.tenant_id)
    if f.business_type:
        conditions.append(Rating.business_type_code == f.business_type)
    return conditions


def _share(satisfied: int, total: int) -> float:
    return round(satisfied / total, 4) if total else 0.0


def _by(session: Session, f: Any, key: Any, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    satisfied = func.sum(case((Rating.level.in_(sorted(SATISFIED)), 1), else_=0))
    rows = session.execute(select(key, func.count(), satisfied).where(*_where(f)).group_by(key).order_by(key)).all()
    return [{"key": str(k or ""), "label": (names or {}).get(str(k), str(k or "（无）")), "value": int(n),
             "satisfied": int(s or 0), "share": _share(int(s or 0), int(n))} for k, n, s in rows]


def _month(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", func.timezone("UTC", Rating.created_at)), "YYYY-MM")
    return func.strftime("%Y-%m", Rating.created_at, "+8 hours")


def rating_figures(session: Session, f: Any) -> dict[str, Any]:
    total = session.execute(select(func.count()).select_from(Rating).where(*_where(f))).scalar_one()
    satisfied = session.execute(select(func.count()).select_from(Rating).where(
        *_where(f), Rating.level.in_(sorted(SATISFIED)))).scalar_one()
    follow_up = aliased(Case)
    open_bad = session.execute(select(func.count()).select_from(Rating).join(
        follow_up, follow_up.id == Rating.follow_up_case_id).where(
        *_where(f), follow_up.status.not_in(sorted(FINAL_STATUSES)))).scalar_one()
    offices = {str(k): str(v) for k, v in session.execute(select(Tenant.code, Tenant.name))}
    types = {str(k): str(v) for k, v in session.execute(select(BusinessType.code, BusinessType.name))}
    clerk_ids = [k for k, in session.execute(select(Rating.clerk_id).where(*_where(f)).distinct()) if k]
    clerks = {str(k): str(v) for k, v in session.execute(select(User.id, User.username).where(User.id.in_(clerk_ids)))}
    return {"total": int(total), "satisfied": int(satisfied), "share": _share(int(satisfied), int(total)),
            "open_bad": int(open_bad),
            "by_office": _by(session, f, Rating.tenant_id, offices),
            "by_type": _by(session, f, Rating.business_type_code, types),
            "by_stage": _by(session, f, Rating.stage),
            "by_clerk": _by(session, f, Rating.clerk_id, clerks),
            "by_month": _by(session, f, _month(session))}


RATING_FIGURES = {"by_office": "按办理机构", "by_type": "按业务类型", "by_stage": "按服务环节", "by_clerk": "按经办人",
                  "by_month": "按月份"}
