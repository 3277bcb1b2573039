from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.registry import certificates
from app.security import throttle
from app.web import current_actor, db_session, keep_writes_on_error, pdf_response, settings

blp = Blueprint("certificates", __name__, url_prefix="/api/v1/certificates", description="不动产权证书与登记证明")


class VerifyArgs(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=64))


class VoidRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))
    reissue = fields.Boolean(load_default=False)


def _cert_json(cert: Any) -> dict[str, Any]:
    return {"id": cert.id, "number": cert.number, "kind": cert.kind, "status": cert.status,
            "verify_code": cert.verify_code, "pdf": f"/api/v1/certificates/{cert.id}/pdf"}


class NoPropertyRequest(Schema):
    purpose = fields.String(required=True, validate=validate.Length(min=2, max=200))


@blp.get("/verify")
@blp.arguments(VerifyArgs, location="query")
@throttle.verify_certificate
def verify(args: dict[str, Any]) -> dict[str, Any]:
    """核验证书（无需登录）：status 为 valid / revoked / unknown，个人信息脱敏；同一地址多次查无此证将被限流（429）"""
    result = certificates.verification(db_session(), args["code"])
    if result["status"] == "unknown":
        throttle.count_as_failure()
    return result


@blp.get("/<certificate_id>/pdf")
def download(certificate_id: str) -> Response:
    """下载已签章的证书 PDF（权利人本人，或本辖区有案件查阅权限的工作人员）"""
    cert = certificates.certificate_for_download(db_session(), current_actor(), certificate_id)
    content = current_app.extensions["storage"].get(cert.storage_key, tenant_id=cert.tenant_id)
    return pdf_response(content, f"certificate-{cert.id}.pdf", inline=False)


@blp.post("/no-property")
@blp.arguments(NoPropertyRequest)
@blp.response(201)
def no_property(body: dict[str, Any]) -> dict[str, Any]:
    """申请无房证明（实名申请人本人；须说明查询用途；查询留痕）"""
    keep_writes_on_error()  # a refused query is still a query of the register: keep its audit entry
    cert = certificates.issue_no_property(db_session(), current_app.extensions["storage"], current_actor(),
                                          purpose=body["purpose"])
    return _cert_json(cert)


@blp.post("/province-no-property")
@blp.arguments(NoPropertyRequest)
@blp.response(201)
def province_no_property(body: dict[str, Any]) -> dict[str, Any]:
    """申请全省无房证明（省级平台；实名申请人本人；查询留痕）

    同时向本省各市查询：全部答复且均无登记时出具；有市登记的返回 409 owns_property；有市未答复的返回 503
    partial_answer（answered / missing 列出各市），不出具证明，可重试。"""
    from app.federation.province_queries import province_no_property as ask

    keep_writes_on_error()  # refused or partial, the question was asked: keep its audit entry
    cert = ask(db_session(), current_app.extensions["storage"], current_actor(), settings(), purpose=body["purpose"])
    return {**_cert_json(cert), "scope": cert.summary.get("scope")}


@blp.post("/<certificate_id>/void")
@blp.arguments(VoidRequest)
def void(body: dict[str, Any], certificate_id: str) -> dict[str, Any]:
    """作废证书号（废号保留并留痕）；reissue=true 时依登记簿补发新证（新号）"""
    cert, replacement = certificates.void_certificate(
        db_session(), current_app.extensions["storage"], current_actor(), certificate_id, reason=body["reason"],
        reissue=body["reissue"])
    return {"voided": {**_cert_json(cert), "reason": cert.void_reason},
            "replacement": _cert_json(replacement) if replacement else None}
