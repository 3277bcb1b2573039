"""An institution's batch filing (网上集中办理直通通道, guide 三.6): hundreds of 注销 or 抵押 sent at once, each item
validated alone and answered alone, none half-stored, none created twice.

Each item is one unit of work of its own — a fresh session, ``run_unit`` (department calls outside the
transaction), one commit — like an item of a job (DESIGN.md §7): a bad item is rolled back whole and answered
with its field errors while the others go on; a failure half-way leaves the items before it filed and their
answers kept, and resending the batch answers them from the idempotency record.

How far an item goes: the institution acts through the same use cases as one filing through the API — create,
attach the item's materials, confirm with the account signature — and the item is **submitted** when no other
party takes part (the type's ``applicant_mode`` is 单方). 抵押权注销 is filed by the mortgagee alone (DOMAIN.md
§1.4 E, processes/mortgage_cancel ``applicant_mode: 单方``), so a 注销 item is carried to submission and gets its
业务号 in the answer. An item whose type needs another party (抵押权首次登记: the mortgagor signs too) stays a
confirmed draft (``awaiting_confirmation``) that the institution completes as usual (materials, invitations,
the counter flow) and submits."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.casefile.access import definition_of
from app.casefile.models import Case
from app.casefile.storage import Storage
from app.cases import intake, materials
from app.cases.batch_models import BatchItem, InstitutionBatch, InstitutionFiling
from app.catalog.forms import validate_form_data
from app.db import Database
from app.errors import DomainError, NotFound, ValidationFailed
from app.identity.actor import Actor
from app.identity.institutions import require_institution, require_port_open
from app.integrations.answers import run_in_new_session
from app.security import audit
from app.vocabulary import CaseStatus

BATCH_TYPES = {"mortgage_cancel": "抵押权注销登记", "mortgage_first": "抵押权首次登记"}
MAX_ITEMS = 2000
_KEY_MAX = 64


@dataclass
class ParsedItem:
    """One item as sent, checked for shape; ``problems`` (field → messages) when it cannot be filed at all."""

    position: int
    key: str | None = None
    business_type: str | None = None
    form: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # (code, filename, content)
    digest: str = ""
    problems: dict[str, list[str]] = field(default_factory=dict)


def parse_item(position: int, raw: Any) -> ParsedItem:
    """Shape of one item: ``idempotency_key`` (1–64 characters), ``business_type`` (a batch type), ``form`` (an
    object) and ``materials`` ([{code, filename, content_base64}]). The digest covers what the item asks for,
    so a resend with other content under the same key is told apart."""
    item = ParsedItem(position)
    if not isinstance(raw, dict) or "_unparsable_line" in raw:
        item.problems["item"] = [f"第 {raw['_unparsable_line']} 行不是有效的 JSON" if isinstance(raw, dict)
                                 else "每一项应为 JSON 对象"]
        return item
    key = raw.get("idempotency_key")
    if not isinstance(key, str) or not key.strip() or len(key) > _KEY_MAX:
        item.problems["idempotency_key"] = [f"请填写幂等键（1–{_KEY_MAX} 个字符），同一机构内每项申请唯一"]
    else:
        item.key = key.strip()
    business_type = raw.get("business_type")
    if business_type not in BATCH_TYPES:
        item.problems["business_type"] = ["批量申报只受理：" + "、".join(f"{c}（{n}）" for c, n in BATCH_TYPES.items())]
    else:
        item.business_type = business_type
    form = raw.get("form")
    if not isinstance(form, dict):
        item.problems["form"] = ["请提供申请表内容（JSON 对象）"]
    else:
        item.form = form
    listed = raw.get("materials") or []
    if not isinstance(listed, list):
        item.problems["materials"] = ["材料应为列表：[{code, filename, content_base64}]"]
        listed = []
    for n, entry in enumerate(listed, start=1):
        code = entry.get("code") if isinstance(entry, dict) else None
        try:
            content = base64.b64decode(str(entry.get("content_base64") or ""), validate=True) if code else b""
        except (binascii.Error, ValueError):
            content = b""
        if not isinstance(code, str) or not content:
            item.problems[f"materials[{n}]"] = ["每份材料须有 code 与 base64 编码的文件内容 content_base64"]
            continue
        item.files.append((code, str(entry.get("filename") or "")[:200], content))
    sent = {"business_type": business_type, "form": form,
            "materials": sorted((c, hashlib.sha256(b).hexdigest()) for c, _, b in item.files)}
    item.digest = hashlib.sha256(json.dumps(sent, sort_keys=True, ensure_ascii=False, default=str)
                                 .encode()).hexdigest()
    return item


def open_batch(session: Session, actor: Actor, count: int) -> InstitutionBatch:
    """The batch row, refused at once when the account is no institution's or its port is closed."""
    actor.require("application:create")
    institution = require_institution(session, actor)
    require_port_open(session, actor)
    if count == 0:
        raise ValidationFailed("批次中没有申请项", field="items")
    if count > MAX_ITEMS:
        raise ValidationFailed(f"每批最多 {MAX_ITEMS} 项，请分批发送", field="items")
    batch = InstitutionBatch(institution_id=institution.id, submitted_by=actor.user_id, item_count=count)
    batch.ensure_id()
    session.add(batch)
    audit.record(session, actor_id=actor.user_id, action="institution.batch_open", object_type="institution_batch",
                 object_id=batch.id, after={"institution": institution.id, "items": count})
    return batch


def file_item(session: Session, storage: Storage, actor: Actor, batch_id: str, item: ParsedItem) -> BatchItem:
    """File one item in ``session`` (the caller commits): answered from the idempotency record when its key was
    filed before, else created, given its materials, confirmed and — when nobody else must confirm — submitted."""
    batch = session.get(InstitutionBatch, batch_id)
    assert batch is not None and item.key is not None and item.business_type is not None
    earlier = session.execute(select(InstitutionFiling).where(
        InstitutionFiling.institution_id == batch.institution_id,
        InstitutionFiling.idempotency_key == item.key)).scalar_one_or_none()
    if earlier is not None:
        if earlier.content_sha256 != item.digest:
            raise ValidationFailed("该幂等键已用于内容不同的另一项申请；内容有变化请使用新的幂等键",
                                   field="idempotency_key", code="idempotency_key_reused")
        return _answer(session, batch, item, "accepted", case_id=earlier.case_id, replayed=True)
    case = intake.create_application(session, actor, item.business_type, item.form)
    definition = definition_of(session, case)
    validate_form_data(definition.application_schema, case.form_data)  # the whole form, before anything else
    for code, filename, content in item.files:
        try:
            materials.add_material(session, storage, actor, case, definition, code=code, filename=filename,
                                   content=content)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, code=exc.code, field=f"materials.{code}") from exc
    intake.confirm_application(session, actor, case, storage=storage)
    if definition.applicant_mode == "单方":  # the institution applies alone: filed to the end (注销 by the mortgagee)
        problems = intake.submission_problems(session, case)
        if problems:
            raise ValidationFailed("申请尚不能提交：" + "；".join(m for ms in problems.values() for m in ms),
                                   code="not_ready", errors=problems)
        intake.submit_application(session, actor, case)
    # else (双方) a confirmed draft: the other parties confirm, the institution completes and submits it as usual
    session.add(InstitutionFiling(institution_id=batch.institution_id, idempotency_key=item.key,
                                  content_sha256=item.digest, business_type=item.business_type, case_id=case.id))
    return _answer(session, batch, item, "accepted", case_id=case.id)


def refuse_item(session: Session, actor: Actor, batch_id: str, item: ParsedItem,
                error: DomainError | None) -> BatchItem:
    """Record the refusal of an item whose own unit was rolled back (nothing of it stored)."""
    batch = session.get(InstitutionBatch, batch_id)
    assert batch is not None
    errors = dict(error.errors) if error is not None else dict(item.problems)
    if error is not None and not errors:
        errors = {error.field or "item": [error.message]}
    message = (error.message if error is not None
               else "申请项格式有误：" + "；".join(m for ms in errors.values() for m in ms))
    answer = _answer(session, batch, item, "refused", code=error.code if error is not None else "item_malformed",
                     message=message, errors=errors)
    audit.record(session, actor_id=actor.user_id, action="institution.batch_item_refused",
                 object_type="institution_batch", object_id=batch.id,
                 after={"position": item.position, "code": answer.code, "fields": sorted(errors)})
    return answer


def _answer(session: Session, batch: InstitutionBatch, item: ParsedItem, status: str, *, case_id: str | None = None,
            replayed: bool = False, code: str | None = None, message: str | None = None,
            errors: dict[str, Any] | None = None) -> BatchItem:
    answer = BatchItem(batch_id=batch.id, position=item.position, idempotency_key=item.key,
                       business_type=item.business_type, status=status, replayed=replayed, case_id=case_id,
                       code=code, message=(message or "")[:1000] or None, errors=errors)
    session.add(answer)
    if status == "accepted":
        batch.accepted_count += 1
    else:
        batch.refused_count += 1
    return answer


def file_batch(database: Database, storage: Storage, actor: Actor, raw_items: list[Any],
               on_item: Callable[[int], None] | None = None) -> str:
    """File every item, each in a unit of work of its own; returns the batch id. ``on_item`` is told each
    position once its unit committed (the benchmark's memory probe)."""
    batch_id: str = run_in_new_session(database, lambda s: open_batch(s, actor, len(raw_items)).id)

    def filed(item: ParsedItem) -> Callable[[Session], str]:
        return lambda s: file_item(s, storage, actor, batch_id, item).id

    def refused(item: ParsedItem, error: DomainError | None) -> Callable[[Session], str]:
        return lambda s: refuse_item(s, actor, batch_id, item, error).id

    for position, raw in enumerate(raw_items, start=1):
        item = parse_item(position, raw)
        error: DomainError | None = None
        if not item.problems:
            try:
                try:
                    run_in_new_session(database, filed(item))
                except IntegrityError:  # the same key filed at this moment by a concurrent sending: answer from it
                    run_in_new_session(database, filed(item))
            except DomainError as exc:
                error = exc
        if item.problems or error is not None:
            run_in_new_session(database, refused(item, error))
        if on_item is not None:
            on_item(position)
    return batch_id


# --- following a batch -------------------------------------------------------------------------------------

ITEM_STATES = {CaseStatus.DRAFT: "awaiting_confirmation"}


def batch_of(session: Session, actor: Actor, batch_id: str) -> InstitutionBatch:
    """A batch of the actor's own institution (another's is not found)."""
    institution = require_institution(session, actor)
    batch = session.get(InstitutionBatch, batch_id)
    if batch is None or batch.institution_id != institution.id:
        raise NotFound("没有该批次", code="batch_not_found")
    return batch


def batch_report(session: Session, batch: InstitutionBatch) -> dict[str, Any]:
    """The batch with each item's answer and, for accepted items, where its case is now (it progresses as the
    office works: 受理, 审核, 登簿 … completed or refused)."""
    items = list(session.execute(select(BatchItem).where(BatchItem.batch_id == batch.id)
                                 .order_by(BatchItem.position)).scalars())
    case_ids = [i.case_id for i in items if i.case_id]
    cases = {c.id: c for c in session.execute(select(Case.id, Case.status, Case.business_no)
                                               .where(Case.id.in_(case_ids))
                                               .execution_options(all_tenants=True))} if case_ids else {}
    shown = []
    for i in items:
        row: dict[str, Any] = {"position": i.position, "idempotency_key": i.idempotency_key,
                               "business_type": i.business_type, "status": i.status}
        if i.status == "accepted" and i.case_id in cases:
            case = cases[i.case_id]
            row.update({"case_id": case.id, "business_no": case.business_no, "replayed": i.replayed,
                        "case_status": ITEM_STATES.get(case.status, case.status)})
        else:
            row.update({"code": i.code, "message": i.message, "errors": i.errors or {}})
        shown.append(row)
    return {"id": batch.id, "created_at": batch.created_at.isoformat(), "item_count": batch.item_count,
            "accepted": batch.accepted_count, "refused": batch.refused_count, "items": shown}
