"""The 办事指南 of a business type, generated from its definition — the same data the system enforces
(checklist, fees, time limit, steps), so the guide can never say something the system does not do."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from app.catalog.definitions import BusinessTypeDef, MaterialItem
from app.catalog.forms import prefill_fields
from app.vocabulary import Stage

SECTION = re.compile(r"【(?P<title>[^】]+)】")
EXEMPTION_SOURCES = {"identity": "公安部门身份核验", "marriage": "民政部门婚姻登记信息",
                     "business_licence": "市场监管部门营业执照信息", "contract": "住建部门网签备案合同",
                     "tax": "税务部门完税信息", "notarial": "司法部门公证信息（经公证的授权委托书）"}


def guide_sections(text: str) -> list[dict[str, Any]]:
    """Split the guide text at its 【…】 headings; paragraphs keep their line breaks."""
    parts = SECTION.split(text or "")
    sections = []
    if parts[0].strip():
        sections.append({"title": "说明", "paragraphs": [p for p in parts[0].strip().splitlines() if p.strip()]})
    for title, body in zip(parts[1::2], parts[2::2], strict=False):
        paragraphs = [p.strip() for p in body.strip().splitlines() if p.strip()]
        sections.append({"title": title.strip(), "paragraphs": paragraphs})
    return sections


def _requirement(item: MaterialItem) -> str:
    if item.generated:
        return "系统生成，无需上传"  # the 申请书: made from the answers once every party has signed
    if item.required and item.condition:
        return "符合条件时必交"
    return "必交" if item.required else "选交"


def service_guide(definition: BusinessTypeDef) -> dict[str, Any]:
    """The guide as plain data for the page and the API (a boundary: the template reads dicts)."""
    schema = definition.application_schema
    materials = [{
        "code": m.code, "name": m.name, "requirement": _requirement(m), "description": m.description,
        "accepted_types": [t.upper() for t in m.accepted_types], "max_size_mb": m.max_size_mb,
        "sample": m.sample,
        "exempt_by": EXEMPTION_SOURCES.get(m.exemptible_by or "", None),
    } for m in definition.materials]
    steps = [t for t in definition.user_tasks if t.stage != Stage.CORRECT]
    return {
        "code": definition.code, "name": definition.name, "category": definition.category,
        "applicant_mode": definition.applicant_mode, "time_limit_days": definition.time_limit_days,
        "parties": [p.label for p in definition.parties],
        "sections": guide_sections(definition.guide),
        "materials": materials,
        "fees": [dataclasses.asdict(f) for f in definition.fees],
        "steps": [{"name": t.name, "stage": t.stage} for t in steps],
        "legal_basis": definition.legal_basis,
        "faq": definition.faq,
        "inquiry": definition.inquiry or [],
        "contract": definition.contract,
        "prefilled": sorted(prefill_fields(schema)),
        "online": definition.applicant_mode != "嘱托",
    }
