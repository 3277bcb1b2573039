"""嘱托登记: a court (or another authority, 细则 93) sends a 查封 / 解封 with its documents; there is no
applicant to fill a form, confirm or correct. One use case takes the whole entrustment: it creates the case
in the court's name, stores the documents, confirms and submits it, so the same process, rules, inbox and
register book handle it as any other case (and the clerk's 受理 is a formal check only, 法发〔2004〕5号).
"""
from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.casefile.access import definition_of
from app.casefile.models import Case
from app.casefile.storage import Storage
from app.cases.intake import confirm_application, create_application, submit_application
from app.cases.materials import add_material
from app.catalog.service import current_version, version_definition
from app.errors import ValidationFailed
from app.identity.actor import Actor
from app.vocabulary import Channel

ENTRUSTED = "嘱托"
# 不动产查封期限不超过三年（最高人民法院关于人民法院民事执行中查封、扣押、冻结财产的规定 第二十七条）
MAX_SEIZURE_YEARS = 3


def _period_problems(form: dict[str, Any]) -> dict[str, list[str]]:
    if "start_date" not in form and "end_date" not in form:
        return {}
    try:
        start, end = date.fromisoformat(str(form.get("start_date"))), date.fromisoformat(str(form.get("end_date")))
    except ValueError:
        return {}  # the form schema reports the malformed date with its field
    if end < start:
        return {"end_date": ["查封终止日期不能早于起始日期"]}
    try:
        limit = start.replace(year=start.year + MAX_SEIZURE_YEARS)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + MAX_SEIZURE_YEARS, day=28)
    if end > limit:
        return {"end_date": [f"不动产查封期限不得超过{MAX_SEIZURE_YEARS}年（最迟至 {limit.isoformat()}），"
                             "需延长的请办理续封"]}
    return {}


def _decode(documents: list[dict[str, Any]]) -> list[tuple[str, str, bytes]]:
    decoded, errors = [], {}
    for n, doc in enumerate(documents, start=1):
        try:
            content = base64.b64decode(str(doc.get("content_base64") or ""), validate=True)
        except (binascii.Error, ValueError):
            errors[f"documents.{n}.content_base64"] = ["不是有效的 Base64 编码"]
            continue
        decoded.append((str(doc.get("code") or ""), str(doc.get("filename") or ""), content))
    if errors:
        details = "；".join(f"第{k.split('.')[1]}份文书{v[0]}" for k, v in errors.items())
        raise ValidationFailed("嘱托文书有误：" + details, errors=errors)
    return decoded


def receive_entrustment(session: Session, storage: Storage, actor: Actor, business_type: str,
                        form: dict[str, Any], documents: list[dict[str, Any]]) -> Case:
    """Create, document, confirm and submit an entrusted registration in one transaction: a rejected
    entrustment (bad field, missing document, unknown unit) leaves nothing behind."""
    actor.require("court:entrust")
    version = current_version(session, business_type)
    if version_definition(version).applicant_mode != ENTRUSTED:
        raise ValidationFailed(f"“{version_definition(version).name}”不是嘱托登记业务，请通过网上申请办理",
                               field="business_type")
    problems = _period_problems(form)
    if problems:
        raise ValidationFailed("嘱托事项有误：" + "；".join(m for ms in problems.values() for m in ms), errors=problems)
    decoded = _decode(documents)
    case = create_application(session, actor, business_type, form, channel=Channel.COURT, permission="court:entrust")
    definition = definition_of(session, case)
    for code, filename, content in decoded:
        add_material(session, storage, actor, case, definition, code=code, filename=filename, content=content)
    confirm_application(session, actor, case)
    return submit_application(session, actor, case)
