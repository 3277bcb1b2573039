"""Operations API: user sync from the integrated government platform's directory."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.errors import ValidationFailed
from app.identity.sync import sync_users
from app.web import current_actor, db_session

blp = Blueprint("admin_users", __name__, url_prefix="/api/v1/admin/users", description="运维管理：人员同步")


class SyncRequest(Schema):
    users = fields.List(fields.Dict(), required=True, validate=validate.Length(max=20000),
                        metadata={"description": "人员记录：external_id、username、real_name、phone、tenant、"
                                                 "section、roles（列表）、enabled"})
    full = fields.Boolean(load_default=False,
                          metadata={"description": "全量同步：停用目录中已不存在的同步账户"})


class SyncResponse(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    disabled = fields.Integer()
    unchanged = fields.Integer()


@blp.post("/sync")
@blp.arguments(SyncRequest)
@blp.response(200, SyncResponse)
def sync(body: dict[str, Any]) -> dict[str, int]:
    """从政务一体化平台同步人员（幂等；任一记录有误则全部不写入，逐条说明第几条、原因）"""
    records = [{**r, "_line": n} for n, r in enumerate(body["users"], start=1)]
    report = sync_users(db_session(), current_actor(), records, full=body["full"])
    if not report.ok:
        raise ValidationFailed(f"同步失败：{len(report.problems)} 条记录有误，未写入任何数据",
                               errors={f"users[{p.line}]": [f"第 {p.line} 条：{p.message}"] for p in report.problems})
    return report.counts()
