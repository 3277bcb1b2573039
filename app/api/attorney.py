"""代理机构的授权委托书 (细则 12): an agent institution records the 委托书 its clients gave it, then files cases
for them with ``power_of_attorney_id`` on POST /api/v1/applications."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.cases import attorney
from app.web import current_actor, db_session

blp = Blueprint("powers_of_attorney", __name__, url_prefix="/api/v1/powers-of-attorney",
                description="代理机构授权委托书备案")


class PowerOfAttorneyRequest(Schema):
    principal_name = fields.String(required=True, validate=validate.Length(max=50))
    principal_id_number = fields.String(required=True, validate=validate.Length(max=32))
    business_types = fields.List(fields.String(validate=validate.Length(max=64)), required=True,
                                 validate=validate.Length(max=20))
    unit_codes = fields.List(fields.String(validate=validate.Length(max=40)), required=True,
                             validate=validate.Length(max=200))
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    notarial_no = fields.String(load_default=None, validate=validate.Length(max=64))


@blp.post("")
@blp.arguments(PowerOfAttorneyRequest)
@blp.response(201)
def record(body: dict[str, Any]) -> dict[str, Any]:
    """备案授权委托书（代理机构账号；委托人、委托事项、不动产单元、期限；自然人处分不动产的须填公证书编号）"""
    poa = attorney.record_power_of_attorney(db_session(), current_actor(), attorney.PowerOfAttorneyInput(**body))
    return attorney.shown(poa)


@blp.get("")
def list_mine() -> dict[str, Any]:
    """本机构备案的授权委托书（委托人信息脱敏）"""
    return {"items": [attorney.shown(p) for p in attorney.powers_of(db_session(), current_actor())]}


class RevokeRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=200))


@blp.post("/<string:power_of_attorney_id>/revoke")
@blp.arguments(RevokeRequest)
def revoke(body: dict[str, Any], power_of_attorney_id: str) -> dict[str, Any]:
    """撤销授权委托书（备案的代理机构、委托人本人或窗口工作人员；撤销后不能再据此代理申请）"""
    poa = attorney.revoke_power_of_attorney(db_session(), current_actor(), power_of_attorney_id, body["reason"])
    return attorney.shown(poa)
