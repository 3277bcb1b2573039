"""Applications across levels (issue 20 §1, "interface navigation"): an application filled at the national
portal goes, as a signed request, to the province of its unit; the province checks it is complete and routes it
to the city of the unit (division code), which files it through the same intake use cases as its own portal.

The body every level sends (``POST /federation/applications``) is the same and passes down unchanged::

    {"origin": "000000", "ref": "<the origin's reference>", "business_type": "holder_change",
     "unit_code": "<28 characters>", "form": {…},
     "applicants": [{"name": …, "id_number": …, "level": "face", "verified_at": …}],
     "materials": [{"code": "title_certificate", "filename": "…", "content": "<base64>"}],
     "consent": {"agreed_at": "<ISO time>", "statement": "…", "content_sha256": "<filing_digest>"}}

``origin`` + ``ref`` make it idempotent at every level: the same body again answers what the first one got and
files nothing new; another body under the same reference is a conflict (409 ``ref_reused``). Each level keeps a
``federated_case`` row (app/federation/forward_models.py), never the form or the files.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.casefile.status import status_label
from app.casefile.storage import Storage
from app.cases import intake, materials
from app.catalog.definitions import BusinessTypeDef
from app.catalog.forms import validate_form_data
from app.catalog.service import current_version, version_definition
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.federation import assertion, peers, signing
from app.federation.forward_models import FederatedCase, FederatedStatus
from app.identifiers import InvalidIdentifier, check_id_card, division_name
from app.identity.actor import actor_for
from app.security import audit
from app.security.fields import blind_index

REF_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{4,64}$")
UNIT_PREFIX = re.compile(r"^[0-9]{6}")
MAX_MATERIALS = 30


class CityUnknown(DomainError):
    status = 422
    code = "city_unknown"


class PeerUnavailable(DomainError):
    """The level below did not answer (down, timed out, 5xx): nothing was stored here."""

    status = 503
    code = "city_unavailable"


class RefusedBelow(DomainError):
    """The level below refused the application: its status, code, message and field errors, passed on."""

    def __init__(self, status: int, code: str, message: str, errors: dict[str, Any]) -> None:
        super().__init__(message, code=code, errors=errors)
        self.status = status


@dataclass(frozen=True)
class Upload:
    code: str
    filename: str
    content: bytes


@dataclass(frozen=True)
class Filing:
    """A forwarded application as received: what it is, for whom, with what, and its digest (``content_sha256``)
    that tells a replay from a different application under the same reference."""

    origin: str
    ref: str
    business_type: str
    unit_code: str
    form: dict[str, Any]
    applicants: list[assertion.Subject]
    uploads: list[Upload]
    consent: dict[str, Any]
    body: dict[str, Any]
    content_sha256: str


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def filing_digest(business_type: str, unit_code: str, form: dict[str, Any], uploads: list[Upload]) -> str:
    """What the applicant agreed to: the type, the unit, the answers and each file's SHA-256. The consent carries
    it, so the city can tell that what arrived is what the person confirmed at the platform they used."""
    return hashlib.sha256(_canonical({
        "business_type": business_type, "unit_code": unit_code, "form": form,
        "materials": [{"code": u.code, "sha256": hashlib.sha256(u.content).hexdigest()} for u in uploads]})).hexdigest()


def build_body(*, origin: str, ref: str, business_type: str, unit_code: str, form: dict[str, Any],
               applicant: assertion.Subject, uploads: list[Upload], agreed_at: str, statement: str) -> dict[str, Any]:
    """The body the origin (the national portal) sends down, consent included."""
    form = {**form, "unit_code": unit_code}
    return {"origin": origin, "ref": ref, "business_type": business_type, "unit_code": unit_code, "form": form,
            "applicants": [{"name": applicant.name, "id_number": applicant.id_number, "level": applicant.level,
                            "verified_at": applicant.verified_at}],
            "materials": [{"code": u.code, "filename": u.filename, "content": base64.b64encode(u.content).decode()}
                          for u in uploads],
            "consent": {"agreed_at": agreed_at, "statement": statement,
                        "content_sha256": filing_digest(business_type, unit_code, form, uploads)}}


def _text(body: dict[str, Any], key: str, label: str, errors: dict[str, list[str]]) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.setdefault(key, []).append(f"缺少{label}")
        return ""
    return value.strip()


def parse_filing(body: Any) -> Filing:
    """The body checked for shape (not yet for content: the form and materials are the level's rules' business);
    ``ValidationFailed`` (422 ``filing_invalid``) names every malformed part."""
    if not isinstance(body, dict):
        raise ValidationFailed("申请数据应为 JSON 对象", code="filing_invalid")
    errors: dict[str, list[str]] = {}
    origin = _text(body, "origin", "来源平台代码", errors)
    ref = _text(body, "ref", "来源平台申请编号", errors)
    if ref and not REF_PATTERN.match(ref):
        errors.setdefault("ref", []).append("来源平台申请编号格式不正确")
    business_type = _text(body, "business_type", "登记类型", errors)
    unit_code = _text(body, "unit_code", "不动产单元号", errors).replace(" ", "")
    if unit_code and not UNIT_PREFIX.match(unit_code):
        errors.setdefault("unit_code", []).append("不动产单元号应以 6 位行政区划代码开头")
    form = body.get("form")
    if not isinstance(form, dict):
        errors.setdefault("form", []).append("缺少申请表内容")
        form = {}
    form = {**form, "unit_code": unit_code}
    applicants: list[assertion.Subject] = []
    raw_applicants: list[Any] = body["applicants"] if isinstance(body.get("applicants"), list) else []
    for raw in raw_applicants:
        raw = raw if isinstance(raw, dict) else {}
        try:
            id_number = check_id_card(str(raw.get("id_number") or ""))
        except InvalidIdentifier:
            errors.setdefault("applicants", []).append("申请人身份证号码无效")
            continue
        name = str(raw.get("name") or "").strip()
        if not 2 <= len(name) <= 30:
            errors.setdefault("applicants", []).append("申请人姓名无效")
            continue
        applicants.append(assertion.Subject(name, id_number, str(raw.get("level") or ""),
                                            str(raw.get("verified_at") or "")))
    if not applicants and "applicants" not in errors:
        errors["applicants"] = ["缺少经核验的申请人身份"]
    uploads: list[Upload] = []
    raw_materials: list[Any] = body["materials"] if isinstance(body.get("materials"), list) else []
    if len(raw_materials) > MAX_MATERIALS:
        errors.setdefault("materials", []).append(f"材料不能超过 {MAX_MATERIALS} 份")
    for raw in raw_materials[:MAX_MATERIALS]:
        raw = raw if isinstance(raw, dict) else {}
        try:
            content = base64.b64decode(str(raw.get("content") or ""), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content or not raw.get("code"):
            errors.setdefault("materials", []).append(f"材料“{raw.get('code') or '（未注明）'}”内容无效")
            continue
        uploads.append(Upload(str(raw["code"]), str(raw.get("filename") or raw["code"])[:120], content))
    consent: dict[str, Any] = body["consent"] if isinstance(body.get("consent"), dict) else {}
    if not consent.get("agreed_at"):
        errors.setdefault("consent", []).append("缺少申请人确认（电子签名）记录")
    if errors:
        raise ValidationFailed("申请数据不完整或格式不正确", code="filing_invalid", errors=errors)
    if consent.get("content_sha256") != filing_digest(business_type, unit_code, form, uploads):
        raise ValidationFailed("申请人确认的内容与收到的申请不一致", code="consent_mismatch",
                               errors={"consent": ["申请人确认的内容与收到的申请不一致"]})
    return Filing(origin, ref, business_type, unit_code, form, applicants, uploads, consent, body,
                  hashlib.sha256(_canonical(body)).hexdigest())


def answer_of(row: FederatedCase) -> dict[str, Any]:
    """What a level answers for a filed application (the same for a replay)."""
    return {"origin": row.origin_code, "ref": row.origin_ref, "city": row.city_code, "case_id": row.case_id,
            "business_no": row.business_no, "status": row.status, "status_label": row.status_label}


def find_filed(session: Session, origin: str, ref: str, content_sha256: str | None = None) -> FederatedCase | None:
    """The row of an application already filed under ``origin`` + ``ref``; with ``content_sha256``, one of other
    content is refused (409 ``ref_reused``)."""
    row = session.execute(select(FederatedCase).where(FederatedCase.origin_code == origin,
                                                      FederatedCase.origin_ref == ref)).scalar_one_or_none()
    if row is not None and not row.content_sha256 and content_sha256 is not None:
        return None  # a row the city's reports opened (they carry the origin), not a filing: the filing takes it over
    if row is not None and content_sha256 is not None and row.content_sha256 != content_sha256:
        raise Conflict("该申请编号已用于另一份不同的申请", code="ref_reused")
    return row


def definition_for(session: Session, business_type: str) -> BusinessTypeDef:
    try:
        return version_definition(current_version(session, business_type))
    except NotFound as exc:
        raise ValidationFailed("本平台不办理该登记类型", code="business_type_unknown",
                               field="business_type") from exc


def _single_applicant(definition: BusinessTypeDef, filing: Filing) -> assertion.Subject:
    if definition.applicant_mode != "单方" or len(filing.applicants) != 1:
        raise ValidationFailed(f"跨层级申请暂只办理单方申请的登记类型（“{definition.name}”须到办理地平台申请）",
                               code="multi_party_unsupported", field="business_type")
    return filing.applicants[0]


# ---------------------------------------------------------------------------------------------- province


def completeness_problems(definition: BusinessTypeDef, filing: Filing) -> dict[str, list[str]]:
    """What the province can check without the register: the form against the type's form definition and
    the materials against its checklist (required, not made by the platform, not waivable by a department
    check the city runs). Field → Chinese messages; empty when complete."""
    problems: dict[str, list[str]] = {}
    try:
        validate_form_data(definition.application_schema, filing.form)
    except ValidationFailed as exc:
        problems.update({k: list(v) for k, v in exc.errors.items()})
    items = {m.code: m for m in definition.materials}
    have = {u.code for u in filing.uploads}
    for code in sorted(have - set(items)):
        problems.setdefault(f"materials.{code}", []).append("材料清单中没有这一项")
    for code in materials.required_codes(definition, filing.form):
        item = items[code]
        if code in have or item.generated or (item.exemptible_by or "none") != "none":
            continue
        problems.setdefault(f"materials.{code}", []).append(f"请上传：{item.name}")
    return problems


def check_and_route(session: Session, filing: Filing, *, own_code: str) -> peers.Peer:
    """At the province: the application complete (else 422 ``incomplete`` with every problem) and the city
    peer it goes to (the unit code's first four digits + "00", a configured city of this province; else 422
    ``city_unknown``)."""
    definition = definition_for(session, filing.business_type)
    _single_applicant(definition, filing)
    problems = completeness_problems(definition, filing)
    if problems:
        raise ValidationFailed("申请材料不完整：" + "；".join(m for ms in problems.values() for m in ms),
                               code="incomplete", errors=problems)
    city_code = filing.unit_code[:4] + "00"
    if city_code[:2] != own_code[:2] or division_name(city_code) is None:
        raise CityUnknown(f"不动产单元号 {filing.unit_code[:6]} 不属于本省的设区市", code="city_unknown",
                          field="unit_code")
    try:
        city = peers.get_peer(session, city_code)
    except signing.FederationRefused as exc:
        raise CityUnknown(f"{division_name(city_code)}尚未接入本省平台", code="city_unknown",
                          field="unit_code") from exc
    if city.level != "city":
        raise CityUnknown(f"{city_code} 不是已接入的市级平台", code="city_unknown", field="unit_code")
    return city


def record_routed(session: Session, filing: Filing, answer: dict[str, Any], *, applicant_user_id: str | None = None,
                  action: str = "federation.application_routed") -> FederatedCase:
    """The row of an application sent down and accepted there (the province's routing record, the national
    portal's "my applications"); audited."""
    collected = reported_first(session, filing)
    if collected is None and answer.get("city") and answer.get("business_no"):  # the city's first report came first
        collected = session.execute(select(FederatedCase).where(
            FederatedCase.city_code == str(answer["city"]), FederatedCase.business_no == answer["business_no"],
            FederatedCase.origin_ref == f"local:{answer['business_no']}")).scalar_one_or_none()
    if collected is not None:
        session.delete(collected)
        session.flush()
    row = FederatedCase(origin_code=filing.origin, origin_ref=filing.ref, content_sha256=filing.content_sha256,
                        business_type=filing.business_type, unit_code=filing.unit_code,
                        applicant_user_id=applicant_user_id,
                        applicant_bidx=blind_index(filing.applicants[0].id_number),
                        city_code=str(answer.get("city") or ""), case_id=answer.get("case_id"),
                        business_no=answer.get("business_no"), status=str(answer.get("status") or ""),
                        status_label=str(answer.get("status_label") or ""),
                        steps=list(collected.steps) if collected else [],
                        certificates=list(collected.certificates) if collected else [])
    row.ensure_id()
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:  # a copy sent at the same moment recorded it first
        raise Conflict("同一申请正在办理，请稍后以同一编号重新发送", code="ref_in_progress") from exc
    audit.record(session, actor_id=applicant_user_id, action=action, object_type="federated_case",
                 object_id=row.id, after={"origin": filing.origin, "ref": filing.ref, "city": row.city_code,
                                          "business_no": row.business_no, "business_type": filing.business_type})
    return row


def reported_first(session: Session, filing: Filing) -> FederatedCase | None:
    """The row the city's reports opened under the filing's origin and reference before the city's answer reached
    this level (the reports carry the case's origin; their steps were relayed up as they came)."""
    return session.execute(select(FederatedCase).where(
        FederatedCase.origin_code == filing.origin, FederatedCase.origin_ref == filing.ref,
        FederatedCase.content_sha256 == "")).scalar_one_or_none()


# ---------------------------------------------------------------------------------------------- city


def accept_at_city(session: Session, storage: Storage, filing: Filing, *, forwarded_by: peers.Peer,
                   own_code: str) -> dict[str, Any]:
    """At the city: file the application exactly as the portal does — the applicant's account (found by ID
    number or made, verified by the platform above that vouches for the person), create, materials, the
    applicant's confirmation (the account signature, the consent from above as its evidence), submit — and
    answer the case id, 业务号 and status. A replay answers the first answer."""
    existing = find_filed(session, filing.origin, filing.ref, filing.content_sha256)
    if existing is not None:
        return answer_of(existing)
    if filing.unit_code[:4] != own_code[:4]:
        raise CityUnknown("该不动产单元不属于本市", code="city_unknown", field="unit_code")
    definition = definition_for(session, filing.business_type)
    subject = _single_applicant(definition, filing)
    row = claim(session, filing, city_code=own_code)  # first: a copy arriving at the same moment files nothing
    user, created = assertion.account_for(session, forwarded_by, subject)
    actor = actor_for(session, user)
    case = intake.create_application(session, actor, filing.business_type, filing.form,
                                     origin=(filing.origin, filing.ref))
    for upload in filing.uploads:
        materials.add_material(session, storage, actor, case, definition, code=upload.code,
                               filename=upload.filename, content=upload.content)
    intake.confirm_application(session, actor, case)
    intake.submit_application(session, actor, case)
    row.applicant_user_id, row.applicant_bidx = user.id, blind_index(subject.id_number)
    row.case_id, row.business_no, row.status = case.id, case.business_no, case.status
    row.status_label = status_label(case.status)
    audit.record(session, actor_id=user.id, action="federation.application_accepted", object_type="case",
                 object_id=case.id, tenant_id=case.tenant_id,
                 after={"origin": filing.origin, "ref": filing.ref, "forwarded_by": forwarded_by.code,
                        "business_no": case.business_no, "account_created": created,
                        "issuer_level": subject.level, "consent_agreed_at": str(filing.consent.get("agreed_at")),
                        "consent_sha256": filing.consent.get("content_sha256")})
    return answer_of(row)


def claim(session: Session, filing: Filing, *, city_code: str) -> FederatedCase:
    """The row of ``filing``, written at once: its unique (origin, ref) makes a second copy that arrives while
    this one is being filed wait for it and then fail here — 409 ``ref_in_progress`` (sent again, it gets the
    first one's answer) — instead of filing twice."""
    row = FederatedCase(origin_code=filing.origin, origin_ref=filing.ref, content_sha256=filing.content_sha256,
                        business_type=filing.business_type, unit_code=filing.unit_code, city_code=city_code,
                        status=FederatedStatus.FILING, status_label="", steps=[], certificates=[])
    row.ensure_id()
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("同一申请正在办理，请稍后以同一编号重新发送", code="ref_in_progress") from exc
    return row


# ---------------------------------------------------------------------------------------------- national


def applicant_subject(session: Session, user_id: str) -> assertion.Subject:
    """The signed-in applicant as the national platform vouches for them (its verified identity)."""
    from app.identity.models import User

    user = session.get(User, user_id)
    if user is None or user.verified_at is None or not user.id_number or not user.real_name:
        raise ValidationFailed("请先完成实名认证", code="not_verified")
    return assertion.Subject(user.real_name, user.id_number, user.verification_level or "identity",
                             user.verified_at.isoformat())


def filings_of(session: Session, user_id: str) -> list[FederatedCase]:
    """The person's applications filed at this (national) platform, newest first."""
    return list(session.execute(select(FederatedCase).where(FederatedCase.applicant_user_id == user_id)
                                .order_by(FederatedCase.created_at.desc())).scalars())


def cross_level_types(session: Session) -> list[BusinessTypeDef]:
    """The types an applicant can file through interface navigation: enabled, one applicant alone."""
    from app.catalog.service import enabled_definitions

    return [d for _, d in enabled_definitions(session) if d.applicant_mode == "单方"]
