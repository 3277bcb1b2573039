"""The province's collected cases and its cities' health as JSON (逐级归集), for a provincial dashboard: the twin of
the operators' page ``/admin/federation/collected`` (app/federation_pages.py). Read-only, no personal data; only
at a province (404 ``not_province`` elsewhere), for holders of ``interface:read``."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.federation import collected
from app.identity.actor import Actor
from app.web import current_actor, db_session, settings

blp = Blueprint("federation_collected", __name__, url_prefix="/api/v1/federation",
                description="省级平台：各市归集的办件、检查点与上报情况")


class CollectedQuery(Schema):
    city = fields.String(load_default="", validate=validate.Length(max=6), metadata={"description": "市级平台代码"})
    business_type = fields.String(load_default="", validate=validate.Length(max=64),
                                  metadata={"description": "业务类型代码"})
    status = fields.String(load_default="", validate=validate.Length(max=32), metadata={"description": "状态"})
    business_no = fields.String(load_default="", validate=validate.Length(max=32), metadata={"description": "业务号"})
    date_from = fields.Date(load_default=None, metadata={"description": "最近上报日期起（北京时间，含当日）"})
    date_to = fields.Date(load_default=None, metadata={"description": "最近上报日期止（北京时间，含当日）"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=collected.MAX_PER_PAGE))


def _operator() -> Actor:
    actor = current_actor()
    collected.ensure_province(settings().platform_level)
    actor.require("interface:read")
    return actor


@blp.get("/collected")
@blp.arguments(CollectedQuery, location="query")
def list_collected(args: dict[str, Any]) -> dict[str, Any]:
    """各市归集的办件（按市、业务类型、状态、业务号、最近上报日期筛选，分页；不含个人信息）"""
    _operator()
    found = collected.collected_cases(db_session(), collected.CollectedFilter(**args))
    return {"items": [r.as_json() for r in found.rows], "total": found.total, "page": found.page,
            "pages": found.pages, "per_page": found.per_page}


@blp.get("/collected/health")
def collected_health() -> dict[str, Any]:
    """各市上报情况：最近上报时间、24 小时内上报数、归集办件数、按状态计数、登记簿检查点、向全国平台转报积压"""
    _operator()
    session = db_session()
    return {"cities": [h.as_json() for h in collected.city_health(session)],
            "counts": collected.counts_by_city_and_status(session),
            "checkpoints": [c.as_json() for c in collected.city_checkpoints(session)],
            "relay": collected.relay_backlog(session).as_json()}
