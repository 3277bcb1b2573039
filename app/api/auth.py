from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.identity.service import authenticate, issue_token
from app.identity.signin import require_totp
from app.security import throttle
from app.web import db_session, keep_writes_on_error, settings

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录认证")


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    otp = fields.String(load_default=None, validate=validate.Length(max=10),
                        metadata={"description": "动态验证码（账户已启用 TOTP 时必填）"})


class TokenResponse(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


@blp.post("/token")
@blp.arguments(TokenRequest)
@blp.response(200, TokenResponse)
@throttle.sign_in
def token(body: dict[str, Any]) -> dict[str, Any]:
    """用户名密码换取访问令牌"""
    keep_writes_on_error()  # failed attempts count towards the delays
    session = db_session()
    address = request.remote_addr or ""
    user = authenticate(session, body["username"], body["password"], address)
    require_totp(session, user, body.get("otp"), address)
    return {"access_token": issue_token(settings().secret_key, user), "token_type": "Bearer",
            "expires_in": settings().token_ttl_seconds}
