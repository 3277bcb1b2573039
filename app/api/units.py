from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.errors import NotFound
from app.registry.codes import format_unit_code
from app.registry.models import RealtyUnit
from app.registry.service import current_rights, is_holder, unit_by_code, unit_flags, units_of_holder
from app.security import audit
from app.security.masking import mask_name
from app.web import current_actor, db_session

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="不动产单元查询")


class UnitsArgs(Schema):
    mine = fields.Boolean(load_default=False)


def _unit_json(unit: RealtyUnit, *, with_rights: bool) -> dict[str, Any]:
    session = db_session()
    data: dict[str, Any] = {"unit_code": unit.unit_code, "unit_code_display": format_unit_code(unit.unit_code),
                            "location": unit.location, "use": unit.use, "area_m2": float(unit.area_m2),
                            "tenant_id": unit.tenant_id, "flags": unit_flags(session, unit)}
    if with_rights:
        data["rights"] = [{"type": r.right_type, "business_no": r.business_no, "cert_no": r.cert_no,
                           "amount_yuan": float(r.amount_yuan) if r.amount_yuan is not None else None,
                           "since": r.created_at.isoformat(),
                           "holders": [{"name": mask_name(h.name), "share_mode": h.share_mode, "share": h.share}
                                       for h in r.holders]}
                          for r in current_rights(session, unit)]
    return data


@blp.get("")
@blp.arguments(UnitsArgs, location="query")
def list_units(args: dict[str, Any]) -> dict[str, Any]:
    """本人名下的不动产（mine=1，实名用户）"""
    actor = current_actor()
    if not args["mine"]:
        raise NotFound("请使用 mine=1 查询本人名下不动产，或按单元代码查询", code="use_mine")
    actor.require("unit:read_own")
    if not actor.id_number_bidx:
        return {"items": []}
    units = units_of_holder(db_session(), actor.id_number_bidx)
    audit.record(db_session(), actor_id=actor.user_id, action="query.own_units", object_type="user",
                 object_id=actor.user_id, after={"count": len(units)})
    return {"items": [_unit_json(u, with_rights=True) for u in units]}


@blp.get("/<unit_code>")
def show_unit(unit_code: str) -> dict[str, Any]:
    """不动产单元自然状况与限制状态（权利人或工作人员；查询留痕）"""
    actor = current_actor()
    session = db_session()
    unit = unit_by_code(session, unit_code)
    holder = is_holder(session, unit, actor.id_number_bidx)
    if not (holder or actor.has("unit:read")):
        # Non-holders see the natural status and restrictions only (条例 27–28 interested parties).
        actor.require("application:create")
    audit.record(session, actor_id=actor.user_id, action="query.unit", object_type="realty_unit",
                 object_id=unit.id, tenant_id=unit.tenant_id, after={"as_holder": holder})
    return _unit_json(unit, with_rights=holder or actor.has("unit:read"))
