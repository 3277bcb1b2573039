"""实名认证: who is behind a portal account, checked with the departments before the account may apply.

A person: name + ID number checked with 公安 (identity adapter), then a live photo compared with the 公安
photo (face adapter). An organisation: credit code (USCC) + name + legal representative checked with 市场监管
(licence adapter); the account then acts for the organisation (kind ``institution``, identified by its USCC,
as ``ORGANISATION_ROLES`` accounts are). Every outcome is audited (without the personal data); attempts are
rate-limited per account so the check cannot be used to probe other people's ID numbers.
"""
from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.sms_login import PORTAL_KINDS
from app.db import utcnow
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.identifiers import InvalidIdentifier, check_id_card, check_uscc
from app.identity.models import User, UserRole
from app.integrations.adapters import gongan, shichang
from app.integrations.adapters.services import face_score
from app.integrations.client import CallContext
from app.security import audit, rate_limit
from app.security.fields import blind_index

FACE_THRESHOLD = 80.0
MAX_PHOTO_BYTES = 5 * 1024 * 1024
ATTEMPTS = (rate_limit.Limit(10, timedelta(hours=1), "核验次数过多，请 {wait}后再试"),)


def require_portal_account(user: User) -> None:
    """实名认证 is what a portal account (a person or an organisation) does before it may act; a staff
    account is vetted by its office and must not take on an identity here (its ID number would make it a
    party of that person's cases)."""
    if user.kind not in PORTAL_KINDS:
        raise PermissionDenied("工作人员账户不在此进行实名认证", code="not_a_portal_account")


def _require_unverified(user: User) -> None:
    require_portal_account(user)
    if user.verified_at is not None:
        raise Conflict("本账户已完成实名认证", code="already_verified")


def _audit(session: Session, user: User, action: str, **after: Any) -> None:
    audit.record(session, actor_id=user.id, action=action, object_type="user", object_id=user.id, after=after)


def verify_person(session: Session, user: User, *, name: str, id_number: str) -> None:
    """Step 1: 公安 confirms that the name belongs to the ID number. The face check (step 2) completes it."""
    _require_unverified(user)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not 2 <= len(name) <= 30:
        errors["real_name"] = ["请填写与身份证一致的姓名"]
    try:
        id_number = check_id_card(id_number)
    except InvalidIdentifier as exc:
        errors["id_number"] = [exc.message]
    if errors:
        raise ValidationFailed("请核对姓名和身份证号", errors=errors)
    taken = session.execute(select(User.id).where(User.id_number_bidx == blind_index(id_number), User.id != user.id,
                                                  User.kind == "applicant", User.verified_at.is_not(None))).first()
    if taken:
        raise ValidationFailed("该身份证号已在其他账户完成实名认证；如非本人操作，请联系登记机构", field="id_number",
                               code="identity_taken")
    rate_limit.hit(session, f"realname:{user.id}", ATTEMPTS)
    reply = gongan.verify_identity(session, CallContext(actor_id=user.id), name, id_number)
    if not reply.get("found"):
        _audit(session, user, "user.identity_check_failed", source="公安", reason="not_found")
        raise ValidationFailed("公安核验未通过：未查询到该身份证号码，请核对", field="id_number",
                               code="identity_mismatch")
    if reply.get("result") != "一致":
        _audit(session, user, "user.identity_check_failed", source="公安", reason="name_mismatch")
        raise ValidationFailed("公安核验未通过：姓名与身份证号码不一致，请核对", field="real_name",
                               code="identity_mismatch")
    user.real_name, user.id_number, user.verification_level = name, id_number, "identity"
    _audit(session, user, "user.identity_checked", source="公安", result="一致")


def verify_face(session: Session, user: User, photo: bytes) -> float:
    """Step 2: the live photo against 公安's photo of the checked ID number; passing completes 实名认证."""
    _require_unverified(user)
    if user.verification_level != "identity" or not user.id_number:
        raise Conflict("请先填写姓名和身份证号完成公安核验", code="identity_first")
    if not photo:
        raise ValidationFailed("请拍摄或选择一张本人正面照片", field="photo")
    if len(photo) > MAX_PHOTO_BYTES:
        raise ValidationFailed("照片不能超过 5 MB", field="photo")
    if not (photo.startswith(b"\xff\xd8\xff") or photo.startswith(b"\x89PNG\r\n\x1a\n")):
        raise ValidationFailed("照片应为 JPG 或 PNG 图片", field="photo")
    rate_limit.hit(session, f"face:{user.id}", ATTEMPTS)
    score = face_score(session, CallContext(actor_id=user.id), user.id_number, base64.b64encode(photo).decode())
    if score < FACE_THRESHOLD:
        _audit(session, user, "user.face_check_failed", source="人脸核验", score=score)
        raise ValidationFailed("人脸核验未通过：请在光线充足处正对镜头、摘下帽子和眼镜后重新拍摄", field="photo",
                               code="face_mismatch")
    user.verified_at, user.verification_level = utcnow(), "face"
    _audit(session, user, "user.real_name_verified", level="face", score=score)
    return score


def verify_organisation(session: Session, user: User, *, uscc: str, name: str, legal_representative: str) -> None:
    """单位账户: 市场监管 confirms the credit code, the name, that it is 存续 and who represents it; the account
    then acts for the organisation."""
    require_portal_account(user)
    if user.verified_at is not None and user.kind != "institution":
        raise Conflict("本账户已实名认证为个人账户；开通单位账户请使用单位经办人的另一手机号注册",
                       code="already_verified")
    _require_unverified(user)
    name, representative = (name or "").strip(), (legal_representative or "").strip()
    errors: dict[str, list[str]] = {}
    try:
        uscc = check_uscc(uscc)
    except InvalidIdentifier as exc:
        errors["uscc"] = [exc.message]
    if len(name) < 2:
        errors["org_name"] = ["请填写营业执照上的单位名称"]
    if len(representative) < 2:
        errors["legal_representative"] = ["请填写法定代表人（负责人）姓名"]
    if errors:
        raise ValidationFailed("请核对单位信息", errors=errors)
    rate_limit.hit(session, f"realname:{user.id}", ATTEMPTS)
    reply = shichang.business_licence(session, CallContext(actor_id=user.id), uscc, name)
    licence = reply.get("licence") or {}
    fields = reply.get("fields") or {}
    if not reply.get("found"):
        problem = ("uscc", "市场监管核验未通过：未查询到该统一社会信用代码的登记信息")
    elif fields.get("name") != "一致":
        problem = ("org_name", "市场监管核验未通过：单位名称与营业执照登记不一致")
    elif licence.get("status") != "存续":
        problem = ("uscc", f"该单位登记状态为“{licence.get('status')}”，不能开通单位账户")
    elif str(licence.get("legal_representative", "")).strip() != representative:
        problem = ("legal_representative", "市场监管核验未通过：法定代表人与登记信息不一致")
    else:
        problem = None
    if problem:
        _audit(session, user, "user.organisation_check_failed", source="市场监管", field=problem[0])
        raise ValidationFailed(problem[1], field=problem[0], code="organisation_mismatch")
    user.kind, user.real_name, user.id_number = "institution", name, uscc
    user.roles = [UserRole(role_code="institution")]
    user.verified_at, user.verification_level = utcnow(), "organisation"
    _audit(session, user, "user.real_name_verified", level="organisation", uscc=uscc)
