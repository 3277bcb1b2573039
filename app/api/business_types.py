from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask_smorest import Blueprint

from app.catalog.definitions import BusinessTypeDef
from app.catalog.service import current_version, enabled_definitions, version_definition
from app.web import db_session

blp = Blueprint("business_types", __name__, url_prefix="/api/v1/business-types", description="业务类型")


def _summary(d: BusinessTypeDef, version_no: int) -> dict[str, Any]:
    return {"code": d.code, "name": d.name, "category": d.category, "applicant_mode": d.applicant_mode,
            "time_limit_days": d.time_limit_days, "version": version_no}


@blp.get("")
def list_types() -> dict[str, Any]:
    """可办理的业务类型"""
    return {"items": [_summary(d, version_no) for version_no, d in enabled_definitions(db_session())]}


@blp.get("/<code>")
def get_type(code: str) -> dict[str, Any]:
    """业务类型详情：申请表单、材料清单、收费、办理时限、办事指南"""
    version = current_version(db_session(), code)
    d = version_definition(version)
    return {**_summary(d, version.version_no), "form_schema": d.application_schema,
            "materials": [asdict(m) for m in d.materials], "fees": [asdict(f) for f in d.fees],
            "parties": [asdict(p) for p in d.parties],  # the JSON response: plain data at this boundary
            "legal_basis": d.legal_basis, "guide": d.guide, "faq": d.faq,
            "stages": [{"id": t.id, "name": t.name, "stage": t.stage, "role": t.role} for t in d.user_tasks]}
