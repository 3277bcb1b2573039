"""法院协同: courts (and other authorities) send 查封 / 解封 entrustments here with their documents."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.cases.entrustment import receive_entrustment
from app.cases.summary import show_case
from app.web import current_actor, db_session

blp = Blueprint("court", __name__, url_prefix="/api/v1/court", description="法院嘱托（查封、解封）")


class Document(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    filename = fields.String(load_default="", validate=validate.Length(max=200))
    content_base64 = fields.String(required=True)


class Entrustment(Schema):
    business_type = fields.String(required=True, validate=validate.Length(min=1, max=64))  # an 嘱托 type
    form = fields.Dict(required=True)
    documents = fields.List(fields.Nested(Document), required=True, validate=validate.Length(min=1, max=20))


@blp.post("/entrustments")
@blp.arguments(Entrustment)
@blp.response(201)
def entrust(body: dict[str, Any]) -> dict[str, Any]:
    """送达查封 / 解除查封嘱托（嘱托机关账号；文书为 Base64；受理后返回业务号）"""
    session, actor = db_session(), current_actor()
    case = receive_entrustment(session, current_app.extensions["storage"], actor, body["business_type"],
                               body["form"], body["documents"])
    return show_case(session, actor, case)
