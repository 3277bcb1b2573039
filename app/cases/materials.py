"""Materials (申请材料) against the type's checklist: content sniffing, size limits, what is still missing."""
from __future__ import annotations

from io import BytesIO
from typing import Any

from sqlalchemy.orm import Session, object_session

from app.casefile import consent
from app.casefile.models import Case, Material
from app.casefile.storage import Storage, sha256_hex
from app.catalog.definitions import BusinessTypeDef, MaterialItem
from app.errors import Conflict, NotFound, ValidationFailed
from app.identity.actor import Actor
from app.security import audit
from app.vocabulary import EDITABLE_STATUSES

# Magic numbers: the type is what the bytes are, never what the name or the client says.
_SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
]
TYPE_LABELS = {"pdf": "PDF", "jpg": "JPG 图片", "png": "PNG 图片"}


def sniff(content: bytes) -> tuple[str, str] | None:
    for magic, kind, mime in _SIGNATURES:
        if content.startswith(magic):
            return kind, mime
    return None


def checklist(case_definition: BusinessTypeDef) -> list[MaterialItem]:
    return list(case_definition.materials)


def generated_codes(definition: BusinessTypeDef) -> set[str]:
    """Items the platform makes itself (the 申请书 from the answers and signatures): never asked for as an
    upload, never missing — confirmations are asked for instead (app/cases/application_form.py)."""
    return {m.code for m in definition.materials if m.generated}


def _item_required(item: MaterialItem, names: dict[str, Any]) -> bool:
    """``required`` with its ``condition``: an optional item stays optional whatever its condition says
    (the condition of an optional item only decides whether it is shown, processes/README.md)."""
    if not item.required:
        return False
    if item.condition:
        from app.engine.expressions import evaluate_expression

        try:
            return bool(evaluate_expression(item.condition, names))
        except Exception:  # e.g. a comparison with a field not filled yet: decided once it is filled
            return False
    return True


def required_codes(definition: BusinessTypeDef, form_public: dict[str, Any]) -> list[str]:
    # Every field of the form is a name (None when empty), so `a == "x" or b == "x"` still sees b
    # when a is empty instead of failing as a whole.
    fields = definition.application_schema.get("properties", {})
    names = {**{f: None for f in fields}, **form_public}
    return [m.code for m in checklist(definition) if not m.generated and _item_required(m, names)]


def missing_codes(definition: BusinessTypeDef, case: Case, *, waived: set[str] | None = None,
                  deferred: set[str] | None = None) -> list[str]:
    """Required items neither uploaded nor waived by a successful data-sharing check, leaving out the
    exemptible items whose check has not run yet (app/cases/sharing/exemptions.py). ``waived`` and ``deferred``:
    those codes when the caller read them already (the case summary shows them too), else they are read."""
    from app.cases.sharing import exemptions

    have = {m.code for m in case.materials}
    session = object_session(case)
    if session is not None:
        have |= exemptions.waived_codes(session, case) if waived is None else waived
        have |= exemptions.deferred_codes(session, definition, case) if deferred is None else deferred
    return [code for code in required_codes(definition, case.form_public) if code not in have]


# A photo of a document has text and edges; a blank sheet, a lens cap or a uniform fill has (almost) no
# spread of brightness. Measured on a greyscale thumbnail: real scans and phone photos stay far above this.
_MIN_GREY_STDDEV = 4.0


def _blank_reason(content: bytes, kind: str) -> str | None:
    """Why the file shows nothing (found: a blank photo passed 受理), or None. Images: near-uniform pixels;
    PDFs: no page draws anything. A file the decoder cannot read is left to the clerk, not refused here."""
    if kind in ("jpg", "png"):
        from PIL import Image, ImageStat

        try:
            with Image.open(BytesIO(content)) as image:
                image.draft("L", (256, 256))  # JPEG: decode at reduced size, cheap for large photos
                grey = image.convert("L")
                grey.thumbnail((256, 256))
                spread = ImageStat.Stat(grey).stddev[0]
        except Exception:  # noqa: BLE001 - undecodable: not ours to judge here
            return None
        return "图片几乎是纯色（空白），看不到材料内容" if spread < _MIN_GREY_STDDEV else None
    if kind == "pdf":
        from pypdf import PdfReader

        try:
            pages = list(PdfReader(BytesIO(content)).pages)
            drawn = any(_page_draws(page) for page in pages[:50])
        except Exception:  # noqa: BLE001 - unreadable by pypdf: not ours to judge here
            return None
        return None if drawn else "PDF 文件没有任何页面内容（空白）"
    return None


# Content-stream operators that put something on the page: text, paths filled or stroked, images and
# forms (Do, inline BI), shadings. A page of only state changes (cm, BT … ET with a font) shows nothing.
_PAINTING = {b"Tj", b"TJ", b"'", b'"', b"Do", b"BI", b"INLINE IMAGE", b"sh",
             b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}


def _page_draws(page: Any) -> bool:
    contents = page.get_contents()
    return contents is not None and any(operator in _PAINTING for _, operator in contents.operations)


def add_material(session: Session, storage: Storage, actor: Actor, case: Case, definition: BusinessTypeDef,
                 *, code: str, filename: str, content: bytes) -> Material:
    if case.status not in EDITABLE_STATUSES:
        raise Conflict("当前状态不能上传材料", code="case_not_editable")
    item = next((m for m in checklist(definition) if m.code == code), None)
    if item is None:
        raise ValidationFailed("材料类型不在本业务的材料清单中", field="code")
    if item.generated:
        raise ValidationFailed(f"“{item.name}”由系统根据申请表和各方签名生成，无需上传", field="file",
                               code="material_generated")
    consent.require_may_edit(definition, actor, case)
    if not content:
        raise ValidationFailed("上传的文件为空", field="file")
    max_mb = float(item.max_size_mb or 10)
    if len(content) > max_mb * 1024 * 1024:
        raise ValidationFailed(f"“{item.name}”文件不能超过 {max_mb:g} MB", field="file")
    sniffed = sniff(content)
    accepted = item.accepted_types or ["pdf", "jpg", "png"]
    if sniffed is None or sniffed[0] not in accepted:
        names = "、".join(TYPE_LABELS.get(t, t) for t in accepted)
        raise ValidationFailed(f"“{item.name}”只接受 {names} 文件（按文件内容识别）", field="file")
    blank = _blank_reason(content, sniffed[0])
    if blank:
        raise ValidationFailed(f"“{item.name}”{blank}，请重新拍摄或选择正确的文件", field="file",
                               code="material_blank")
    before = consent.snapshot(case)
    material = Material(case_id=case.id, tenant_id=case.tenant_id, code=code, content_type=sniffed[1],
                        size=len(content), sha256=sha256_hex(content),
                        storage_key=storage.put(session, content, tenant_id=case.tenant_id),
                        uploaded_by=actor.user_id or "")
    material.ensure_id()
    material.filename = (filename or f"{code}.{sniffed[0]}")[:200]
    case.materials.append(material)
    session.add(material)
    audit.record(session, actor_id=actor.user_id, action="material.upload", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, after={"material_id": material.id, "code": code, "size": len(content),
                                                  "sha256": material.sha256, "type": sniffed[0]})
    consent.record_change(session, actor, case, before, definition, source=consent.changed_by(actor, case))
    return material


def remove_material(session: Session, storage: Storage, actor: Actor, case: Case, material_id: str) -> None:
    """The file goes with the row (after the commit): an ID-card scan the applicant withdrew is not kept."""
    if case.status not in EDITABLE_STATUSES:
        raise Conflict("当前状态不能删除材料", code="case_not_editable")
    material = next((m for m in case.materials if m.id == material_id), None)
    if material is None:
        raise ValidationFailed("材料不存在", field="material_id")
    from app.casefile.access import definition_of

    definition = definition_of(session, case)
    if material.code in generated_codes(definition):
        raise Conflict("申请书由系统生成，不能删除；修改申请后重新签名即会重新生成", code="material_generated")
    consent.require_may_edit(definition, actor, case)
    before = consent.snapshot(case)
    case.materials.remove(material)
    session.delete(material)
    storage.delete(session, material.storage_key)
    consent.record_change(session, actor, case, before, definition, source=consent.changed_by(actor, case))
    audit.record(session, actor_id=actor.user_id, action="material.remove", object_type="case", object_id=case.id,
                 tenant_id=case.tenant_id, before={"material_id": material_id, "code": material.code})


def material_for_viewing(session: Session, actor: Actor, case: Case, material_id: str) -> Material:
    """A material of a case the actor may already see (``get_case``), for inline viewing. Staff viewing an
    applicant's documents is audited like any other access to personal data."""
    material = next((m for m in case.materials if m.id == material_id), None)
    if material is None:
        raise NotFound("材料不存在", code="material_not_found")
    if actor.kind == "staff":
        audit.record_access(session, actor_id=actor.user_id, action="material.view", object_type="case",
                            object_id=case.id, tenant_id=case.tenant_id,
                            after={"material_id": material.id, "code": material.code})
    return material
