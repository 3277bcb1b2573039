from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.catalog.service import current_version, enabled_definitions
from app.web import db_session

blp = Blueprint("business_types", __name__, url_prefix="/api/v1/business-types", description="业务类型")


def _summary(d: dict[str, Any], version_no: int) -> dict[str, Any]:
    return {"code": d["code"], "name": d["name"], "category": d["category"], "applicant_mode": d["applicant_mode"],
            "time_limit_days": d["time_limit_days"], "version": version_no}


@blp.get("")
def list_types() -> dict[str, Any]:
    """可办理的业务类型"""
    return {"items": [_summary(d, version_no) for version_no, d in enabled_definitions(db_session())]}


@blp.get("/<code>")
def get_type(code: str) -> dict[str, Any]:
    """业务类型详情：申请表单、材料清单、收费、办理时限、办事指南"""
    version = current_version(db_session(), code)
    d = version.definition
    return {**_summary(d, version.version_no), "form_schema": d["forms"][d["application_form"]],
            "materials": d["materials"], "fees": d["fees"], "parties": d["parties"],
            "legal_basis": d["legal_basis"], "guide": d["guide"], "faq": d.get("faq", []),
            "stages": [{"id": t["id"], "name": t["name"], "stage": t["stage"], "role": t["role"]}
                       for t in d["user_tasks"]]}
