"""Consents to an application by the holders who must consent (预告权利人, 抵押权人): online by their own
account, or a paper consent recorded by the 受理 clerk (app/cases/consents.py)."""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.casefile.access import get_case
from app.cases import consents
from app.cases.signing import png_from_data_url
from app.web import current_actor, db_session, settings

blp = Blueprint("consents", __name__, url_prefix="/api/v1/applications", description="权利人同意")


class PaperConsent(Schema):
    right_id = fields.String(load_default=None, validate=validate.Length(max=32))
    consenter_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    consenter_id_number = fields.String(required=True, validate=validate.Length(min=1, max=32))
    material_id = fields.String(load_default=None, validate=validate.Length(max=32))


def _listing(case: Any) -> dict[str, Any]:
    return {"items": [n.as_dict() for n in consents.needed_consents(db_session(), case)]}


@blp.get("/<case_id>/consents")
def list_consents(case_id: str) -> dict[str, Any]:
    """本申请需要哪些权利人同意、已记录的同意（当事人、需同意的权利人、工作人员可查看）"""
    actor = current_actor()
    session = db_session()
    case = get_case(session, actor, case_id) if actor.kind == "staff" else \
        consents.case_for_consenter(session, actor, case_id)
    return _listing(case)


@blp.post("/<case_id>/consents")
@blp.response(201)
def give_consent(case_id: str) -> dict[str, Any]:
    """权利人在平台同意本申请：机构账户以账户确认；个人须人脸核验（multipart：photo）并手写签名
    （signature：data:image/png;base64,…）。可选 right_id 指定所同意的权利。"""
    actor = current_actor()
    session = db_session()
    case = consents.case_for_consenter(session, actor, case_id)
    photo = request.files.get("photo")
    max_bytes = settings().max_upload_mb * 1024 * 1024 + 1
    body = request.get_json(silent=True) or {}
    right_id = request.form.get("right_id") or (body.get("right_id") if isinstance(body, dict) else None)
    consents.give_online(session, current_app.extensions["storage"], actor, case,
                         right_id=str(right_id) if right_id else None,
                         photo=photo.read(max_bytes) if photo is not None else None,
                         signature_png=png_from_data_url(request.form.get("signature", "")))
    return _listing(case)


@blp.post("/<case_id>/paper-consents")
@blp.arguments(PaperConsent)
@blp.response(201)
def record_paper_consent(body: dict[str, Any], case_id: str) -> dict[str, Any]:
    """受理人员核验纸质书面同意后记录同意人（姓名/名称及证件号码须为登记簿记载的该权利的权利人）"""
    actor = current_actor()
    session = db_session()
    case = get_case(session, actor, case_id)
    consents.record_paper(session, actor, case, right_id=body["right_id"], consenter_name=body["consenter_name"],
                          consenter_id_number=body["consenter_id_number"], material_id=body["material_id"])
    return _listing(case)
