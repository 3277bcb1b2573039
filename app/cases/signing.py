"""人脸核验 and 电子签名 of each party before an online application is submitted.

A person in the portal first passes a face check (a live photo compared with the 公安 photo of the party's
ID number through the face adapter), then signs: drawn on a signature pad (PNG) or, without JavaScript, by
typing the full name, which is rendered into a PNG. The image is kept as a case document (a Material with
code ``signature``) and its SHA-256 goes into the party row and the audit log. An API client authenticated
by its bearer token signs with its account (kind ``account``: the hash binds case, party, account, time and the
signed content). Whatever the kind, the party row keeps the digest of exactly what was signed
(``signed_content_sha256``, app/casefile/consent.py): a later change of the content voids the signature.
Signing is the confirmation: ``intake.confirm_application`` calls ``sign``.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError
from sqlalchemy.orm import Session

from app.casefile.consent import SIGNATURE_CODE, content_digest, mark_signed
from app.casefile.models import Case, Material, Party
from app.casefile.storage import Storage, sha256_hex
from app.cases.materials import sniff
from app.cases.sharing.snapshots import context_of
from app.db import utcnow
from app.errors import PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.integrations.adapters import services
from app.security import audit

FACE_PASS_SCORE = 80.0
FACE_VALID_FOR = timedelta(hours=2)  # a face check older than this must be repeated before signing
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_SIGNATURE_BYTES = 512 * 1024
KIND_LABELS = {"drawn": "手写签名", "typed": "输入姓名签名", "account": "账户电子签名"}


@dataclass(frozen=True)
class Signature:
    """What the signer gave: a drawn PNG, or the typed full name (no-JS fallback); neither: account."""

    png: bytes | None = None
    typed_name: str | None = None

    @property
    def kind(self) -> str:
        return "drawn" if self.png else "typed" if self.typed_name is not None else "account"


def parties_of(actor: Actor, case: Case) -> list[Party]:
    return [p for p in case.parties if actor.id_number_bidx and p.id_number_bidx == actor.id_number_bidx]


def png_from_data_url(value: str) -> bytes | None:
    """The signature pad posts ``data:image/png;base64,…``; anything else is no drawing."""
    prefix = "data:image/png;base64,"
    if not value.startswith(prefix):
        return None
    try:
        return base64.b64decode(value[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        return None


def face_check(session: Session, actor: Actor, case: Case, photo: bytes) -> list[Party]:
    """Compare the photo with the 公安 photo of each of the actor's parties; below the threshold refuses."""
    mine = parties_of(actor, case)
    if not mine:
        raise PermissionDenied("您不是本申请的当事人，不能进行人脸核验", code="not_a_party")
    if not photo:
        raise ValidationFailed("请拍摄或选择一张本人正面照片", field="photo")
    if len(photo) > MAX_PHOTO_BYTES or (sniff(photo) or ("", ""))[0] not in ("jpg", "png"):
        raise ValidationFailed("照片须为 JPG 或 PNG 图片，且不超过 5 MB", field="photo")
    image = base64.b64encode(photo).decode()
    now = utcnow()
    for party in mine:
        score = services.face_score(session, context_of(case, actor.user_id), party.id_number or "", image)
        audit.record(session, actor_id=actor.user_id, action="case.face_check", object_type="case",
                     object_id=case.id, tenant_id=case.tenant_id,
                     after={"role": party.role, "score": score, "passed": score >= FACE_PASS_SCORE})
        if score < FACE_PASS_SCORE:
            raise ValidationFailed("人脸核验未通过：照片与公安部门登记的本人照片不一致。"
                                   "请在光线充足处正对镜头重新拍摄。", field="photo", code="face_mismatch")
        party.face_checked_at, party.face_score = now, score
    return mine


def _typed_png(name: str, font_path: Path) -> bytes:
    font = ImageFont.truetype(str(font_path), 56)
    left, top, right, bottom = font.getbbox(name)
    # FreeType fonts measure in whole pixels; Pillow types the box as float for every kind of font
    image = Image.new("RGBA", (int(right - left) + 40, int(bottom - top) + 40), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((20 - left, 20 - top), name, font=font, fill=(20, 20, 90, 255))
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def checked_drawing(png: bytes) -> bytes:
    if len(png) > MAX_SIGNATURE_BYTES or not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationFailed("签名图片无效，请重新签名", field="signature")
    try:
        image = Image.open(BytesIO(png))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationFailed("签名图片无效，请重新签名", field="signature") from exc
    alpha = image.convert("RGBA").getchannel("A")
    if alpha.getbbox() is None:  # a transparent canvas: nothing was drawn
        raise ValidationFailed("请在签名区内手写签名", field="signature")
    return png


def sign(session: Session, storage: Storage | None, actor: Actor, case: Case, signature: Signature, *,
         font_path: Path | None = None) -> list[Party]:
    """Record the actor's signature on each of their parties (face check first for a personal signature)."""
    mine = parties_of(actor, case)
    if not mine:
        raise PermissionDenied("您不是本申请的当事人，不能签名", code="not_a_party")
    now = utcnow()
    png: bytes | None = None
    if signature.kind == "drawn":
        png = checked_drawing(signature.png or b"")
    elif signature.kind == "typed":
        typed = (signature.typed_name or "").strip()
        if not typed or any(typed != (p.name or "").strip() for p in mine):
            raise ValidationFailed("请输入与申请表一致的本人姓名作为签名", field="typed_name")
        assert font_path is not None, "a typed signature is rendered with the certificate font"
        png = _typed_png(typed, font_path)
    if png is not None:
        stale = [p.label for p in mine if p.face_checked_at is None or now - p.face_checked_at > FACE_VALID_FOR]
        if stale:
            raise ValidationFailed(f"请先完成人脸核验（{'、'.join(stale)}），再签名", field="face",
                                   code="face_check_required")
    content = content_digest(case)  # before the signature image joins the case (it is not signed content)
    for party in mine:
        if png is not None:
            assert storage is not None, "a signature image is stored as a case document"
            material = Material(case_id=case.id, tenant_id=case.tenant_id, code=SIGNATURE_CODE,
                                content_type="image/png", size=len(png), sha256=sha256_hex(png),
                                storage_key=storage.put(session, png, tenant_id=case.tenant_id),
                                uploaded_by=actor.user_id or "")
            material.ensure_id()
            material.filename = f"电子签名-{party.label}.png"
            case.materials.append(material)
            session.add(material)
            party.signature_material_id, digest = material.id, material.sha256
        else:
            party.signature_material_id = None
            digest = hashlib.sha256(f"{case.id}:{party.id}:{actor.user_id}:{now.isoformat()}:{content}".encode())\
                .hexdigest()
        party.signed_at, party.signature_kind, party.signature_sha256 = now, signature.kind, digest
        mark_signed(party, content)
        signed = {"role": party.role, "kind": signature.kind, "sha256": digest, "content_sha256": content}
        if party.signature_material_id:  # a drawn signature's image (an account signature has none)
            signed["material_id"] = party.signature_material_id
        audit.record(session, actor_id=actor.user_id, action="case.sign", object_type="case", object_id=case.id,
                     tenant_id=case.tenant_id, after=signed)
    return mine


def signature_image(case: Case, party: Party, storage: Storage) -> bytes | None:
    material = next((m for m in case.materials if m.id == party.signature_material_id), None)
    return storage.get(material.storage_key, tenant_id=material.tenant_id) if material is not None else None
