"""开发企业整幢办理 (issue 19): the 首次登记 of every flat of a building in one filing (app/cases/building.py)."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.cases import building
from app.cases.summary import case_summary
from app.web import current_actor, db_session

blp = Blueprint("buildings", __name__, url_prefix="/api/v1/buildings", description="开发企业整幢办理")


class Document(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))
    filename = fields.String(load_default="", validate=validate.Length(max=200))
    content_base64 = fields.String(required=True)


class BuildingFirstRegistration(Schema):
    # the particulars every flat shares (土地证号, 规划核实, 竣工验收备案, 经办人); the flats' own come from the survey
    particulars = fields.Dict(required=True)
    documents = fields.List(fields.Nested(Document), required=True, validate=validate.Length(min=1, max=20))


@blp.post("/<building_code>/first-registrations")
@blp.arguments(BuildingFirstRegistration)
@blp.response(201)
def file_first_registrations(body: dict[str, Any], building_code: str) -> dict[str, Any]:
    """整幢申请首次登记（开发企业账号；幢代码 = 不动产单元代码前24位）：按测绘成果为每套房屋生成一件已确认的申请，
    共用材料只传一次；已办理首次登记的房屋跳过并列出。各件申请书生成后逐件提交。"""
    session = db_session()
    filing = building.file_building_first_registration(
        session, current_app.extensions["storage"], current_actor(), building_code, body["particulars"],
        building.decode_documents(body["documents"]))
    return {"items": [case_summary(session, c) for c in filing.cases],
            "already_registered": filing.already_registered}
