"""不动产单元查询: thin HTTP skin over ``app.registry.queries`` (who sees what, purpose, audit trail)."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.errors import NotFound
from app.registry import queries
from app.web import current_actor, db_session, read_db_session

blp = Blueprint("units", __name__, url_prefix="/api/v1/units", description="不动产单元查询")


class UnitsArgs(Schema):
    mine = fields.Boolean(load_default=False)


class UnitArgs(Schema):
    purpose = fields.String(load_default=None, metadata={"description": "查询目的：" + "、".join(queries.PURPOSES)})
    unmask = fields.Boolean(load_default=False, metadata={"description": "显示完整个人信息（权利人本人或 pii:unmask）"})


class SearchArgs(UnitArgs):
    cert_no = fields.String(load_default=None, metadata={"description": "不动产权证书号或登记证明号（精确）"})
    location = fields.String(load_default=None, metadata={"description": "坐落（包含该文字）"})


@blp.get("")
@blp.arguments(UnitsArgs, location="query")
def list_units(args: dict[str, Any]) -> dict[str, Any]:
    """本人名下的不动产（mine=1，实名用户；查询留痕）"""
    actor = current_actor()
    if not args["mine"]:
        raise NotFound("请使用 mine=1 查询本人名下不动产，或按单元代码、证书号、坐落查询", code="use_mine")
    return {"items": queries.own_units(db_session(), actor)}


@blp.get("/search")
@blp.arguments(SearchArgs, location="query")
def search_units(args: dict[str, Any]) -> dict[str, Any]:
    """按证书号（精确）或坐落（包含）查询登记簿；非权利人须说明查询目的（条例 27–28；查询留痕）"""
    actor = current_actor()  # first: the read session takes the actor's tenant scope
    return queries.search_units(db_session(), actor, read=read_db_session(), **args)


@blp.get("/<unit_code>")
@blp.arguments(UnitArgs, location="query")
def show_unit(args: dict[str, Any], unit_code: str) -> dict[str, Any]:
    """不动产单元：权利人看全部，工作人员看现势权利（脱敏），利害关系人看自然状况、权利人（脱敏）与限制状态"""
    return queries.show_unit(db_session(), current_actor(), unit_code, **args)
