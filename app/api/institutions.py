"""Institution channel (网上集中办理直通通道): batch filing, following a batch, the 登记证明 the institution holds,
and the institution administrator's management of its own staff accounts."""
from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.cases import batches
from app.errors import ValidationFailed
from app.identity import institutions
from app.registry.held_certificates import held_certificates
from app.web import current_actor, db_session

blp = Blueprint("institutions", __name__, url_prefix="/api/v1/institutions",
                description="机构直通通道：批量申报、批次跟踪、登记证明回传、机构人员管理")

NDJSON = "application/x-ndjson"
_ITEM = {"type": "object", "required": ["idempotency_key", "business_type", "form"], "properties": {
    "idempotency_key": {"type": "string", "maxLength": 64,
                        "description": "本机构内每项申请唯一；重发同一项不会重复创建"},
    "business_type": {"type": "string", "enum": sorted(batches.BATCH_TYPES)},
    "form": {"type": "object", "description": "申请表内容（与单件申请 POST /api/v1/applications 的 form 相同）"},
    "materials": {"type": "array", "items": {"type": "object", "required": ["code", "content_base64"], "properties": {
        "code": {"type": "string"}, "filename": {"type": "string"}, "content_base64": {"type": "string"}}}}}}
_BATCH_BODY = {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["items"],
                                    "properties": {"items": {"type": "array", "items": _ITEM}}}},
    NDJSON: {"schema": {"type": "string", "description": "JSON Lines：每行一项申请（对象结构同 items 的元素）"}}}}


def _items_of_request() -> list[Any]:
    """The items of a JSON body ({"items": [...]}) or of JSON Lines (one item per line)."""
    if request.mimetype == NDJSON:
        items: list[Any] = []
        for number, line in enumerate(request.get_data(as_text=True).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except ValueError:
                items.append({"_unparsable_line": number})  # answered as a malformed item, the others go on
        return items
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise ValidationFailed("请求体应为 {\"items\": [...]}（application/json）或 JSON Lines（application/x-ndjson）",
                               field="items")
    return list(body["items"])


@blp.post("/batches")
@blp.doc(requestBody=_BATCH_BODY)
@blp.response(201)
def create_batch() -> dict[str, Any]:
    """批量申报（抵押权注销、抵押权首次登记）：逐项校验、逐项答复（受理的给出业务号，不受理的给出字段错误），
    每项独立提交、不会只保存一半；按幂等键重发不会重复创建（仅限机构账户；端口关闭时拒绝）"""
    actor = current_actor()
    items = _items_of_request()
    session = db_session()
    session.commit()  # nothing written: end the read of the sign-in so no transaction stays open meanwhile
    batch_id = batches.file_batch(current_app.extensions["db"], current_app.extensions["storage"], actor, items)
    return batches.batch_report(session, batches.batch_of(session, actor, batch_id))


@blp.get("/batches/<batch_id>")
def show_batch(batch_id: str) -> dict[str, Any]:
    """批次跟踪：各项答复及受理案件的当前办理状态"""
    session = db_session()
    return batches.batch_report(session, batches.batch_of(session, current_actor(), batch_id))


class CertificateArgs(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(["title", "proof"]))


@blp.get("/certificates")
@blp.arguments(CertificateArgs, location="query")
def list_certificates(args: dict[str, Any]) -> dict[str, Any]:
    """本机构持有的不动产权证书、不动产登记证明（电子证照回传；pdf 为下载地址）"""
    rows = held_certificates(db_session(), current_actor(), kind=args["kind"])
    return {"items": [{"id": c.id, "number": c.number, "kind": c.kind, "status": c.status,
                       "business_no": c.business_no, "issued_at": c.issued_at.isoformat(),
                       "pdf": f"/api/v1/certificates/{c.id}/pdf" if c.storage_key else None} for c in rows]}


class StaffCreate(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))
    role = fields.String(load_default="officer", validate=validate.OneOf(sorted(institutions.STAFF_ROLES)))
    branch = fields.String(load_default="", validate=validate.Length(max=64),
                           metadata={"description": "所属网点（如：西湖支行）"})
    phone = fields.String(load_default=None, validate=validate.Length(max=20))


class PasswordReset(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=128))


@blp.get("/staff")
def list_staff() -> dict[str, Any]:
    """本机构的账户（机构管理员）"""
    return {"items": [institutions.staff_view(u) for u in institutions.list_staff(db_session(), current_actor())]}


@blp.post("/staff")
@blp.arguments(StaffCreate)
@blp.response(201)
def create_staff(body: dict[str, Any]) -> dict[str, Any]:
    """新增本机构网点或经办人员账户（机构管理员；账户以本机构名义办理）"""
    return institutions.staff_view(institutions.create_staff(db_session(), current_actor(), body))


@blp.post("/staff/<user_id>/disable")
def disable_staff(user_id: str) -> dict[str, Any]:
    """停用本机构账户（其令牌随即失效）"""
    return institutions.staff_view(institutions.set_staff_active(db_session(), current_actor(), user_id, False))


@blp.post("/staff/<user_id>/enable")
def enable_staff(user_id: str) -> dict[str, Any]:
    """启用本机构账户"""
    return institutions.staff_view(institutions.set_staff_active(db_session(), current_actor(), user_id, True))


@blp.post("/staff/<user_id>/password")
@blp.arguments(PasswordReset)
def reset_staff_password(body: dict[str, Any], user_id: str) -> dict[str, Any]:
    """重置本机构账户的密码"""
    return institutions.staff_view(institutions.reset_staff_password(db_session(), current_actor(), user_id,
                                                                     body["password"]))


# --- supervision (operators) ------------------------------------------------------------------------------

class PortChange(Schema):
    open = fields.Boolean(required=True, metadata={"description": "true 恢复端口，false 关闭端口"})
    reason = fields.String(required=True, validate=validate.Length(max=500))


@blp.get("/supervision")
def supervision_list() -> dict[str, Any]:
    """机构监管：各机构的申报量、不予受理/不予登记、补正次数、平均办理时长与端口状态（运维人员）"""
    from app.supervision.institutions import institution_figures

    return {"items": institution_figures(db_session(), current_actor())}


@blp.get("/supervision/<institution_id>")
def supervision_detail(institution_id: str) -> dict[str, Any]:
    """机构详情与端口关闭、恢复记录"""
    from app.supervision.institutions import institution_detail

    return institution_detail(db_session(), current_actor(), institution_id)


@blp.post("/supervision/<institution_id>/port")
@blp.arguments(PortChange)
def change_port(body: dict[str, Any], institution_id: str) -> dict[str, Any]:
    """关闭（停用）或恢复机构的申报端口，须填写原因（留痕）；关闭后不再受理该机构的新申请，已受理的业务继续办理"""
    from app.supervision.institutions import institution_detail

    actor = current_actor()
    institutions.set_port(db_session(), actor, institution_id, open_=body["open"], reason=body["reason"])
    return institution_detail(db_session(), actor, institution_id)
