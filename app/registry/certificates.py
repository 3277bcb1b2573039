"""Certificates (缮证 → 发证, 注销, 核验): issue the 不动产权证书 / 不动产登记证明 for what a case recorded, the
无房证明 on request, revoke a certificate when a later 登簿 ends its right, and find one to verify or download.

Every certificate is numbered (``certificate_numbers``) from the register book (``certificate_content``) and
carries a random ``verify_code`` for the public QR verification page. The PDF (``certificate_pdf``, signed with
the office key by ``signing``, stored through the storage interface) is made after 缮证 commits, by
``certificate_rendering`` — 制证中 until then, so the counter row is not held while a PDF is signed. The
无房证明 is rendered in its own request: the applicant is waiting on the page to take it away.
"""
from __future__ import annotations

import secrets
from base64 import b32encode
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, aliased, joinedload

from app.casefile.context import CaseContext
from app.casefile.models import Case
from app.casefile.storage import Storage
from app.db import transaction_cache, utcnow
from app.engine.connectors import connector
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.identity.actor import Actor
from app.identity.models import Tenant, User
from app.registry import signing
from app.registry.certificate_content import (
    RECORDED_AT,
    Content,
    chinese_date,
    content_for_right,
    content_no_property,
    content_province_no_property,
    office_name,
    registration_office,
    remember_office,
)
from app.registry.certificate_numbers import KIND_TITLES, format_number, local_year, next_seq, void_number
from app.registry.certificate_pdf import DEFAULT_FONT, CertificatePage, render_certificate
from app.registry.certificate_rendering import render_at_once, snapshot_page
from app.registry.models import Certificate, RegisterEntry, Right, RightHolder
from app.right_types import NO_CERTIFICATE_RIGHTS, REGISTERED_TITLES, TITLE_RIGHTS
from app.security import audit
from app.vocabulary import CertificateStatus, RightStatus


@dataclass(frozen=True)
class IssuingConfig:
    keys: signing.KeyPaths
    font: Path = DEFAULT_FONT
    verify_base_url: str = "http://127.0.0.1:5000"


def issuing_config() -> IssuingConfig:
    """This app's key paths, font and public URL (``app.extensions["certificates"]``, set by
    ``app.registry.init_app`` from the settings)."""
    config: IssuingConfig = current_app.extensions["certificates"]
    return config


def verify_url(code: str) -> str:
    return f"{issuing_config().verify_base_url.rstrip('/')}/verify/{code}"


def _new_verify_code() -> str:
    return b32encode(secrets.token_bytes(15)).decode()  # 24 characters, A-Z2-7


def kind_for_right(right_type: str) -> str:
    return "title" if right_type in TITLE_RIGHTS else "proof"


def _issue(session: Session, storage: Storage, *, tenant_id: str, kind: str, content: Content,
           actor: Actor, case: Case | None = None, right: Right | None = None,
           holder_bidx: list[str] | None = None) -> Certificate:
    tenant = registration_office(session, tenant_id)
    if tenant is None:
        raise NotFound("未找到登记机构", code="tenant_not_found")
    now = utcnow()
    year = local_year(now)
    seq = next_seq(session, tenant_id, kind, year)
    number = format_number(tenant.province_abbr, year, tenant.name, kind, seq)
    code = _new_verify_code()
    office = office_name(session, tenant_id)
    page = CertificatePage(title=KIND_TITLES[kind], number=number, rows=content.rows, office=office,
                           issued_on=chinese_date(now), verify_url=verify_url(code),
                           remarks=[f"核验码：{code}。本证书为电子证照，经登记机构电子签章，可扫码或在登记机构网站核验。"],
                           notes=content.notes, plan_page=content.plan_page, plan=content.plan)
    cert = Certificate(tenant_id=tenant_id, kind=kind, number=number, year=year, seq=seq,
                       status=CertificateStatus.VALID,
                       case_id=case.id if case else None, business_no=case.business_no if case else None,
                       unit_id=right.unit_id if right else None, right_id=right.id if right else None,
                       verify_code=code, holder_bidx=holder_bidx if holder_bidx is not None else content.holder_bidx,
                       summary={**content.summary, "number": number, "kind": kind, "title": KIND_TITLES[kind],
                                "office": office, "issued_on": chinese_date(now)},
                       issued_by=actor.user_id, issued_at=now)
    snapshot_page(session, cert, page)  # rendered and signed after the commit (制证中 until then)
    cert.ensure_id()
    session.add(cert)
    if right is not None:
        right.cert_no = number
    session.flush()
    audit.record(session, actor_id=actor.user_id, action="certificate.issue", object_type="certificate",
                 object_id=cert.id, tenant_id=tenant_id,
                 after={"number": number, "kind": kind, "right_id": cert.right_id})
    return cert  # announced to the 电子证照库 once rendered (certificate_rendering.render_one)


def right_recorded_by(session: Session, case: Case) -> Right:
    """The current right this case's 登簿 created (its business number is the case's)."""
    return _recorded_right(session, case)[0]


def _recorded_right(session: Session, case: Case) -> tuple[Right, Certificate | None]:
    """``right_recorded_by`` with its unit and holders (the certificate is made from the three), its valid
    certificate if it has one, when it was recorded and its office, in one statement (issue 18: six)."""
    parent = aliased(Tenant)
    rows = session.execute(
        select(Right, Certificate, RegisterEntry.recorded_at, Tenant, parent)
        .outerjoin(Certificate, and_(Certificate.right_id == Right.id, Certificate.status == CertificateStatus.VALID))
        .outerjoin(RegisterEntry, and_(RegisterEntry.unit_id == Right.unit_id,
                                       RegisterEntry.business_no == Right.business_no))
        .outerjoin(Tenant, Tenant.code == Right.tenant_id).outerjoin(parent, parent.code == Tenant.parent_code)
        .where(Right.business_no == case.business_no, Right.status == RightStatus.CURRENT)
        .options(joinedload(Right.unit), joinedload(Right.holders))
        .order_by(Right.created_at.desc(), Certificate.issued_at, RegisterEntry.seq.desc())).unique().all()
    if not case.business_no or not rows:
        raise Conflict("登记簿中没有本案登簿形成的现势权利，不能缮证", code="nothing_to_certify")
    right, certificate, at, office, city = rows[0]
    # When the book recorded it (its latest entry of the business) and the office that issues: the certificate
    # shows both (certificate_content.recorded_at, registration_office)
    transaction_cache(session, RECORDED_AT)[right.id] = at if at is not None else right.created_at
    if office is not None:
        remember_office(session, office, city)
    return right, certificate


def preview_content(session: Session, case: Case) -> tuple[str, Content]:
    """(kind, content) of the certificate 缮证 would issue for this case, read from the book by the same
    ``content_for_right`` the issuing uses, so the certifier checks what will be printed (issue 17)."""
    right = right_recorded_by(session, case)
    kind = kind_for_right(right.right_type)
    return kind, content_for_right(session, right, kind)


def preview_pdf(session: Session, case: Case) -> bytes:
    """The certificate's pages as they will be printed (register page, 附记, 附图), by the same renderer, but
    unnumbered, unsigned, without QR code or seal, and never stored: nothing is issued by looking."""
    kind, content = preview_content(session, case)
    page = CertificatePage(title=KIND_TITLES[kind], number="（缮证完成后编号）", rows=content.rows,
                           office=office_name(session, case.tenant_id), issued_on=chinese_date(utcnow()),
                           verify_url="", notes=content.notes, plan_page=content.plan_page, plan=content.plan,
                           preview=True)
    return render_certificate(page, issuing_config().font)


def issue_for_case(session: Session, storage: Storage, case: Case, actor: Actor) -> Certificate:
    from app.casefile.access import definition_of
    from app.casefile.consent import require_current

    require_current(definition_of(session, case), case)  # nor does a certificate (issue 13 §1)
    right, existing = _recorded_right(session, case)
    if existing is not None:  # issuing twice for one right would print two valid certificates
        return existing
    return issue_for_right(session, storage, right, actor, case=case)


def issue_for_right(session: Session, storage: Storage, right: Right, actor: Actor, *,
                    case: Case | None = None) -> Certificate:
    """Number, render from the book, sign and store the certificate of one current right."""
    kind = kind_for_right(right.right_type)
    content = content_for_right(session, right, kind)
    return _issue(session, storage, tenant_id=right.tenant_id, kind=kind, content=content, actor=actor, case=case,
                  right=right)


@connector("certificates.issue")
def _issue_connector(context: CaseContext, params: dict[str, Any]) -> dict[str, Any]:
    from app.casefile.access import definition_of

    record = definition_of(context.session, context.case).record or {}
    if record.get("reissues"):
        return _reissue(context, record["reissues"])
    if record and (not record.get("right_type") or record["right_type"] in NO_CERTIFICATE_RIGHTS):
        return {"certificate_id": None, "number": None, "kind": None}  # a cancellation or a seizure
    storage = context.storage
    if storage is None:
        raise Conflict("未配置证书文件存储，不能发证", code="certificate_storage_missing")
    cert = issue_for_case(context.session, storage, context.case, context.actor)
    result: dict[str, Any] = {"certificate_id": cert.id, "number": cert.number, "kind": cert.kind}
    if record.get("converts"):  # 预转本: the converted rights' new proofs (their old ones were revoked at 登簿)
        from app.registry.service import converted_by

        result["converted"] = [issue_for_right(context.session, storage, right, context.actor, case=context.case).number
                               for right in converted_by(context.session, context.case, record["converts"]["to"])]
    return result


def _reissue(context: CaseContext, right_type: str) -> dict[str, Any]:
    """更正: a corrected certificate for each current right of the unit whose old one 登簿 revoked."""
    from app.registry.service import current_rights, unit_by_code

    if context.storage is None:
        raise Conflict("未配置证书文件存储，不能发证", code="certificate_storage_missing")
    unit = unit_by_code(context.session, context.case.unit_code or "")
    issued = [issue_for_right(context.session, context.storage, right, context.actor, case=context.case)
              for right in current_rights(context.session, unit, right_type)]
    if not issued:
        raise Conflict("登记簿中没有需换发证书的现势权利", code="nothing_to_certify")
    return {"certificate_id": issued[0].id, "number": issued[0].number, "kind": issued[0].kind}


def void_certificate(session: Session, storage: Storage, actor: Actor, certificate_id: str, *, reason: str,
                     reissue: bool = False) -> tuple[Certificate, Certificate | None]:
    """废号: a spoiled or wrongly filled certificate keeps its number and row as 已作废 (细则 80: the
    replacement is recorded); with ``reissue`` a new one, with a new number, is rendered from the book."""
    actor.require("certificate:void")
    cert = session.execute(select(Certificate).where(Certificate.id == certificate_id)).scalar_one_or_none()
    if cert is None:  # also another office's certificate: the tenant scope hides it
        raise NotFound("证书不存在", code="certificate_not_found")
    before = {"status": cert.status, "number": cert.number}
    void_number(session, cert, reason=reason)
    from app.registry.announce import announce_certificate_status

    announce_certificate_status(session, cert)
    replacement = None
    if reissue:
        right = session.get(Right, cert.right_id) if cert.right_id else None
        if right is None or right.status != RightStatus.CURRENT:
            raise Conflict("该证书记载的权利已不是现势权利，不能补发", code="right_not_current")
        case = session.get(Case, cert.case_id) if cert.case_id else None
        replacement = issue_for_right(session, storage, right, actor, case=case)
    audit.record(session, actor_id=actor.user_id, action="certificate.void", object_type="certificate",
                 object_id=cert.id, tenant_id=cert.tenant_id, before=before,
                 after={"status": cert.status, "reason": cert.void_reason,
                        "replacement": replacement.number if replacement else None})
    return cert, replacement


def revoke_for_rights(session: Session, right_ids: list[str], business_no: str | None) -> int:
    """注销: the valid certificates of rights a later 登簿 ended. Same transaction as that 登簿."""
    if not right_ids:
        return 0
    from app.registry.announce import announce_certificate_status

    now = utcnow()
    # One statement: the UPDATE returns the certificates it revoked, as they now are (issue 18: they were read
    # first by a SELECT of their own).
    ending = list(session.scalars(
        update(Certificate)
        .where(Certificate.right_id.in_(right_ids), Certificate.status == CertificateStatus.VALID)
        .values(status=CertificateStatus.REVOKED, revoked_at=now, revoked_by_business_no=business_no)
        .returning(Certificate), execution_options={"synchronize_session": False, "populate_existing": True}))
    for cert in ending:  # the 证照库 stops presenting them (电子证照归集)
        announce_certificate_status(session, cert)
    return len(ending)


def _city_tenant(session: Session) -> Tenant:
    city = session.execute(select(Tenant).where(Tenant.level == "city").order_by(Tenant.code)).scalars().first()
    if city is None:
        raise Conflict("未配置市级登记机构，不能出具无房证明", code="no_city_office")
    return city


def city_office(session: Session) -> Tenant:
    """The city registration office whose register this platform keeps (what its 无房证明 covers)."""
    return _city_tenant(session)


def owned_units_count(session: Session, id_number_bidx: str) -> int:
    """Units on which the person holds a current ownership right, in any office (never tenant-scoped)."""
    stmt = (select(func.count(func.distinct(Right.unit_id))).select_from(Right)
            .join(RightHolder, RightHolder.right_id == Right.id)
            .where(RightHolder.id_number_bidx == id_number_bidx, Right.status == RightStatus.CURRENT,
                   Right.right_type.in_(REGISTERED_TITLES)).execution_options(all_tenants=True))
    return int(session.execute(stmt).scalar_one())


def no_property_applicant(session: Session, actor: Actor, purpose: str) -> tuple[User, str, str]:
    """Who may ask for a 无房证明 (the city's or the province's): a real-name applicant, for themself, with a
    stated purpose; (their account, the purpose, their ID number's blind index)."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationFailed("请填写查询用途", field="purpose")
    user = session.get(User, actor.user_id) if actor.user_id else None
    if actor.kind != "applicant" or user is None or not actor.id_number_bidx or not user.real_name:
        raise PermissionDenied("无房证明仅向已实名认证的申请人本人出具", code="real_name_required")
    return user, purpose, actor.id_number_bidx


def issue_no_property(session: Session, storage: Storage, actor: Actor, *, purpose: str) -> Certificate:
    """无房证明 for a real-name applicant who holds no current ownership in the city. Always audited."""
    user, purpose, bidx = no_property_applicant(session, actor, purpose)
    city = _city_tenant(session)
    owned = owned_units_count(session, bidx)
    audit.record(session, actor_id=actor.user_id, action="certificate.no_property_query", object_type="person",
                 object_id=actor.user_id, tenant_id=city.code,
                 after={"purpose": purpose[:200], "owned_units": owned, "outcome": "refused" if owned else "issued"})
    if owned:
        raise Conflict(f"经查询，您名下在{city.name}登记有 {owned} 处不动产（现势房屋所有权），不能出具无房证明",
                       code="owns_property")
    content = content_no_property(name=user.real_name, id_number=user.id_number or "", city=city.name,
                                  purpose=purpose[:200], at=utcnow())
    cert = _issue(session, storage, tenant_id=city.code, kind="no_property", content=content, actor=actor,
                  holder_bidx=[bidx])
    config = issuing_config()  # the applicant waits for it: rendered now, not after the commit
    render_at_once(session, storage, cert, config.keys, config.font)
    return cert


def issue_province_no_property(session: Session, storage: Storage, actor: Actor, *, office_code: str,
                               purpose: str, cities: list[str]) -> Certificate:
    """The province's 无房证明 once every city in ``cities`` answered that the applicant holds no current
    ownership (app/federation/province_queries.py asks them): numbered by the province's own office, rendered
    now like the city's. The caller checked the applicant and audited the question."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or not actor.id_number_bidx or not user.real_name:
        raise PermissionDenied("无房证明仅向已实名认证的申请人本人出具", code="real_name_required")
    office = registration_office(session, office_code)
    if office is None:
        raise Conflict("未配置省级登记机构，不能出具全省无房证明", code="no_province_office")
    content = content_province_no_property(name=user.real_name, id_number=user.id_number or "", province=office.name,
                                           cities=cities, purpose=purpose[:200], at=utcnow())
    cert = _issue(session, storage, tenant_id=office.code, kind="no_property", content=content, actor=actor,
                  holder_bidx=[actor.id_number_bidx])
    config = issuing_config()
    render_at_once(session, storage, cert, config.keys, config.font)
    return cert


def by_verify_code(session: Session, code: str) -> Certificate | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 40:
        return None
    return session.execute(select(Certificate).where(Certificate.verify_code == code)
                           .execution_options(all_tenants=True)).scalar_one_or_none()


def verification(session: Session, code: str) -> dict[str, Any]:
    """Public, masked: valid | revoked (incl. voided numbers) | unknown."""
    cert = by_verify_code(session, code)
    if cert is None or cert.status not in set(CertificateStatus):
        return {"status": "unknown", "status_label": "未找到"}
    status = CertificateStatus.VALID if cert.status == CertificateStatus.VALID else CertificateStatus.REVOKED
    labels: dict[str, str] = {CertificateStatus.VALID: "有效", CertificateStatus.REVOKED: "已注销",
                              CertificateStatus.VOIDED: "已作废"}
    label = labels[cert.status]
    body: dict[str, Any] = {"status": status, "status_label": label, **cert.summary}
    if cert.status == CertificateStatus.VOIDED:
        body["reason"] = CertificateStatus.VOIDED
    if cert.revoked_at is not None:
        body["revoked_on"] = chinese_date(cert.revoked_at)
    return body


def may_download(actor: Actor, cert: Certificate) -> bool:
    """The holder (blind index on the certificate) or office staff with case:read (tenant-scoped)."""
    if actor.kind == "staff":
        return actor.has("case:read")
    return bool(actor.id_number_bidx and actor.id_number_bidx in (cert.holder_bidx or []))


def certificate_for_download(session: Session, actor: Actor, certificate_id: str) -> Certificate:
    """404 to everyone but those who ``may_download``: Staff sessions are tenant-scoped, so another office's
    certificate is simply not found."""
    cert = session.execute(select(Certificate).where(Certificate.id == certificate_id)).scalar_one_or_none()
    if cert is None or not may_download(actor, cert) or (cert.storage_key is None and not cert.rendering):
        raise NotFound("未找到该证书", code="certificate_not_found")
    if cert.storage_key is None:  # 缮证 has committed, the job has not yet signed the PDF
        raise Conflict("证书正在制作中（制证中），请稍后再下载", code="certificate_rendering")
    return cert


def certificates_of_case(session: Session, case_id: str, actor: Actor | None = None) -> list[dict[str, Any]]:
    """``downloadable`` says whether ``actor`` (when given) may fetch the PDF, so pages only offer real links;
    ``holder``: ``actor`` may, once it exists; ``rendering``: 制证中, the PDF is not made yet."""
    rows = session.execute(select(Certificate).where(Certificate.case_id == case_id)
                           .order_by(Certificate.issued_at)).scalars()
    listed = []
    for c in rows:
        holder = actor is not None and may_download(actor, c)
        listed.append({"id": c.id, "number": c.number, "kind": c.kind, "status": c.status, "rendering": c.rendering,
                       "holder": holder, "downloadable": holder and c.storage_key is not None})
    return listed

