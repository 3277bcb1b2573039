"""交易合同 template of a type (business.yaml ``contract``): the clauses name form fields as ``{field}``.

Blank: the clauses with lines to fill by hand (downloadable from the guide). Filled online: the same
clauses with the application's form data, signed below by the parties' e-signatures where given; the PDF
is attached to the case as the contract material (``contract.material``), replacing an earlier one."""
from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.casefile.access import definition_of
from app.casefile.models import Case, Material
from app.casefile.storage import Storage
from app.cases import materials
from app.cases.documents import Document, render_document
from app.catalog.definitions import BusinessTypeDef
from app.errors import NotFound, ValidationFailed
from app.identity.actor import Actor

BLANK = "＿＿＿＿＿＿"


def template_of(definition: BusinessTypeDef) -> dict[str, Any]:
    template = definition.contract
    if not template:
        raise NotFound("该业务没有合同示范文本", code="contract_not_found")
    return template


class _Fill(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return BLANK


def _clauses(template: dict[str, Any], values: dict[str, Any]) -> list[str]:
    filled = _Fill({k: v for k, v in values.items() if v not in (None, "")})
    return [string.Formatter().vformat(clause, (), filled) for clause in template["clauses"]]


def blank_contract_pdf(definition: BusinessTypeDef, font_path: Path) -> bytes:
    template = template_of(definition)
    paragraphs = [*_clauses(template, {}), "", f"甲方（签字）：{BLANK}　　乙方（签字）：{BLANK}",
                  f"签订日期：{BLANK}年{BLANK}月{BLANK}日"]
    return render_document(Document(title=template["title"], reference="示范文本", paragraphs=paragraphs,
                                    author=definition.name), font_path)


def filled_contract_pdf(session: Session, case: Case, font_path: Path) -> bytes:
    definition = definition_of(session, case)
    template = template_of(definition)
    form = case.form_data
    named = {name for clause in template["clauses"] for _, name, _, _ in string.Formatter().parse(clause) if name}
    missing = sorted(name for name in named if form.get(name) in (None, ""))
    if missing:
        titles = definition.application_schema.get("properties", {})
        labels = "、".join(titles.get(name, {}).get("title", name) for name in missing)
        raise ValidationFailed(f"生成合同前请先在申请表中填写：{labels}", field="contract")
    reference = f"网签合同编号：{form.get('contract_no') or BLANK}"
    return render_document(Document(title=template["title"], reference=reference,
                                    paragraphs=_clauses(template, form), author=definition.name), font_path)


def attach_filled_contract(session: Session, storage: Storage, actor: Actor, case: Case, font_path: Path) -> Material:
    """网上填写: the form data produce the contract PDF, attached as the contract material."""
    definition = definition_of(session, case)
    code = template_of(definition)["material"]
    pdf = filled_contract_pdf(session, case, font_path)
    for old in [m for m in case.materials if m.code == code]:
        materials.remove_material(session, storage, actor, case, old.id)
    return materials.add_material(session, storage, actor, case, definition, code=code,
                                  filename=f"{template_of(definition)['title']}.pdf", content=pdf)
