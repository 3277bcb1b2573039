"""不动产登记申请书 made by the platform, never uploaded (issue 17: the portal said "网上填写申请表后由系统生成"
and then demanded an upload marked 必交; a blank photo passed 受理).

A checklist item marked ``generated: application_form`` (processes/README.md) is produced here once every
party that must confirm has signed the current content: the application's answers (each form field under
its label from the form definition), the parties, the unit, each party's signature image (or the kind of
signature) with its signing time, and the date — all times in Beijing time. The PDF is signed with the
office key like the certificates (PAdES, app/registry/signing.py), stored encrypted like any material and
attached to the case as that item, replacing an earlier one: a change voids the signatures
(app/casefile/consent.py) and signing again regenerates it. It is not part of the signed content (it is
derived from it), so attaching it voids nobody.

Rendering and signing take tens of milliseconds (most of a confirmation, issue 18), so the last signature
only marks the case: ``application_form_due`` holds the digest of the content everyone signed, computed in
that request. Once it has committed, the form is made in a transaction of its own — right after the
response (``make_soon``, best effort) and by the ``application_forms`` job, which catches what that missed.
The job makes it only while the case's content still has that digest (a change since voided the signatures;
the next last signature marks the case again), so the form always shows what the parties signed. Until it is
made the portal says 生成中 — nothing waits for it (a generated item is never missing).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile import consent
from app.casefile.access import definition_of
from app.casefile.models import Case, Material, Party
from app.casefile.storage import Storage, sha256_hex
from app.cases.documents import Document, render_document
from app.cases.signing import KIND_LABELS, signature_image
from app.catalog.definitions import BusinessTypeDef, MaterialItem
from app.clock import CHINA
from app.db import work_after_response
from app.identity.actor import SYSTEM, Actor
from app.registry import signing as office_signing
from app.registry.certificate_content import office_name
from app.security import audit

log = logging.getLogger(__name__)
KIND = "application_form"
MAKE_SOON = "application_forms_to_make"  # session.info: cases marked in this transaction (see ``make_soon``)
TITLE = "不动产登记申请书"
PLEDGE = ("申请人承诺：本申请书所填内容及提交的申请材料真实、合法、有效，复印件与原件一致；"
          "如有不实，申请人愿承担相应的法律责任。")


def generated_item(definition: BusinessTypeDef) -> MaterialItem | None:
    """The type's checklist item the 申请书 becomes (None: the type has none, e.g. 嘱托 by a court)."""
    return next((m for m in definition.materials if m.generated == KIND), None)


def _beijing(moment: Any) -> str:
    local = moment.astimezone(CHINA)
    return f"{local.year}年{local.month:02d}月{local.day:02d}日 {local.hour:02d}:{local.minute:02d}"


def _shown(prop: dict[str, Any], value: Any) -> str:
    """An answer as written on paper: 是/否, choice titles, list rows by their item titles."""
    if value is True or value is False:
        return "是" if value else "否"
    if isinstance(value, list):
        titles = (prop.get("items") or {}).get("properties", {})
        return "；".join("，".join(f"{titles.get(k, {}).get('title', k)} {v}" for k, v in row.items()
                                  if v not in (None, ""))
                        if isinstance(row, dict) else str(row) for row in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 2350000, not 2350000.0
    for choice in prop.get("oneOf") or []:
        if isinstance(choice, dict) and choice.get("const") == value:
            return str(choice.get("title", value))
    return str(value)


def answers(definition: BusinessTypeDef, form: dict[str, Any]) -> list[str]:
    """``标题：值`` for every filled field, in the form's display order."""
    schema = definition.application_schema
    props: dict[str, Any] = schema.get("properties", {})
    order = [f for f in (schema.get("x-ui") or {}).get("order", []) if f in props]
    order += [f for f in props if f not in order]
    return [f"{props[f].get('title', f)}：{_shown(props[f], form[f])}" for f in order
            if form.get(f) not in (None, "", [])]


def _signature_line(party: Party) -> str:
    if party.signed_at is None:
        return f"{party.label} {party.name or ''}：经办人当面核验身份并签字确认"
    return (f"{party.label} {party.name or ''}：{KIND_LABELS.get(party.signature_kind or '', '电子签名')}，"
            f"签名时间 {_beijing(party.signed_at)}")


def render(session: Session, case: Case, storage: Storage, font_path: Path, *, at: Any) -> bytes:
    """The 申请书 as an unsigned PDF (``at``: when it is made, shown as the Beijing date)."""
    definition = definition_of(session, case)
    paragraphs = [f"登记事项：{definition.name}", f"不动产单元号：{case.unit_code or '—'}",
                  "申请人：", *[f"{p.label}：{p.name or '—'}（证件号码 {p.id_number or '—'}）" for p in case.parties],
                  "申请信息：", *answers(definition, case.form_data), PLEDGE, "签名确认：",
                  *[_signature_line(p) for p in case.parties if p.confirmed_at is not None]]
    images = []
    for party in case.parties:
        png = signature_image(case, party, storage) if party.signature_material_id else None
        if png:
            images.append((f"{party.label}签名", png))
    local = at.astimezone(CHINA)
    return render_document(Document(title=TITLE, reference=f"申请编号：{case.business_no or case.id}",
                                    paragraphs=paragraphs, images=images,
                                    issuer=f"{office_name(session, case.tenant_id)}（网上申请系统生成）",
                                    date_text=f"{local.year}年{local.month:02d}月{local.day:02d}日",
                                    author=definition.name), font_path)


def request_form(session: Session, case: Case) -> None:
    """The last signature: mark the case for its 申请书, bound to the content everyone signed, and ask for it to
    be made once this transaction commits."""
    if generated_item(definition_of(session, case)) is None:
        return
    case.application_form_due = consent.content_digest(case)
    session.info.setdefault(MAKE_SOON, []).append(case.ensure_id())


def make_one(session: Session, storage: Storage, case_id: str, font_path: Path) -> bool:
    """Make the 申请书 a case is due for, in ``session``'s transaction; False when none is due any more (another
    process made it) or the content changed since it was signed. The case row is waited for, not skipped when
    locked: the request that follows the last signature (the browser's redirect) may hold it for a moment, and
    a skipped form stayed due until the next job run (a flake on PostgreSQL); whoever gets the row second finds
    nothing due (PostgreSQL re-checks the condition after the wait)."""
    case = session.execute(select(Case).where(Case.id == case_id, Case.application_form_due.is_not(None))
                           .with_for_update()
                           .execution_options(all_tenants=True, populate_existing=True)).scalar_one_or_none()
    if case is None:
        return False
    due, case.application_form_due = case.application_form_due, None
    if consent.content_digest(case) != due:  # changed since the last signature: signing again marks it anew
        log.warning("application form of case %s not made: its content changed since it was signed", case_id)
        return False
    signed = [p.confirmed_at for p in case.parties if p.confirmed_at is not None]
    return regenerate(session, storage, SYSTEM, case, font_path, at=max(signed) if signed else None) is not None


def due_ids(session: Session, limit: int = 100) -> list[str]:
    """Cases whose 申请书 is still to be made."""
    return list(session.execute(select(Case.id).where(Case.application_form_due.is_not(None)).limit(limit)
                                .execution_options(all_tenants=True)).scalars())


def make_pending(session: Session, storage: Storage, font_path: Path, ids: list[str] | None = None, *,
                 settled: bool = False) -> int:
    """The ``application_forms`` job: make the forms of ``ids`` (default: every case with one due), each in its
    own transaction committed by ``session``; one that fails is rolled back, logged and stays due. Returns how
    many were made, or with ``settled`` how many did not fail (made, or found no longer due)."""
    from app.integrations.answers import each_in_own_transaction

    todo = due_ids(session) if ids is None else ids
    done = each_in_own_transaction(session, todo, lambda case_id: make_one(session, storage, case_id, font_path))
    return len(done) if settled else sum(done)


def make_soon(session: Session) -> Callable[[], None] | None:
    """After ``session`` committed: the forms it marked, made once the response has gone (best effort:
    whatever it misses, the job makes)."""
    return work_after_response(session, MAKE_SOON, functools.partial(make_now, settled=True),
                               "application forms of cases")


def make_now(app: Any, ids: list[str] | None = None, *, settled: bool = False) -> int:
    """Make the forms of ``ids`` (default: all due) in ``app`` now, outside any request: the after-response
    trigger and tests (``settled``: see ``make_pending``)."""
    from app.registry.certificates import issuing_config

    with app.app_context():
        session = app.extensions["db"].session_factory()
        try:
            return make_pending(session, app.extensions["storage"], issuing_config().font, ids, settled=settled)
        finally:
            session.close()


def regenerate(session: Session, storage: Storage, actor: Actor, case: Case, font_path: Path, *,
               at: Any = None) -> Material | None:
    """Make the 申请书 from the current content and signatures, sign it with the office key and attach it in
    place of an earlier one. Called by the job after the last party that must confirm has signed (and at window
    submission). ``at``: the date the form shows (the last signature's; default now). None when the type has
    no such item."""
    from app.db import utcnow

    definition = definition_of(session, case)
    item = generated_item(definition)
    if item is None:
        return None
    now = at or utcnow()
    case.application_form_due = None  # made now (window submission makes it in its request)
    pdf = office_signing.sign_pdf(render(session, case, storage, font_path, at=now),
                                  reason=f"{TITLE} {case.business_no or case.id}",
                                  location=office_name(session, case.tenant_id))
    for old in [m for m in case.materials if m.code == item.code]:
        case.materials.remove(old)
        session.delete(old)
        storage.delete(session, old.storage_key)
    material = Material(case_id=case.id, tenant_id=case.tenant_id, code=item.code, content_type="application/pdf",
                        size=len(pdf), sha256=sha256_hex(pdf),
                        storage_key=storage.put(session, pdf, tenant_id=case.tenant_id),
                        uploaded_by=actor.user_id or case.applicant_id)
    material.ensure_id()
    material.filename = f"{TITLE}.pdf"
    case.materials.append(material)
    session.add(material)
    audit.record(session, actor_id=actor.user_id, action="material.generate", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"material_id": material.id, "code": item.code, "size": len(pdf),
                                                  "sha256": material.sha256})
    return material
