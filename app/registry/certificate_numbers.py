"""证书号 / 证明号 (DOMAIN §3.5): ``浙(2026)西湖区不动产权第0000001号``, ``浙(2026)西湖区不动产证明第0000001号``,
and for the city's no-property proof ``浙(2026)杭州市无房证明第0000001号``.

The 顺序号 is per office, year and kind, taken from a counter row locked ``FOR UPDATE`` inside the issuing
transaction, so a rolled-back issue gives its number back and two clerks never get the same number. A
number that was issued and then spoiled (废号) keeps its row with status ``voided`` and the reason.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from app.clock import CHINA
from app.db import next_counter_value, utcnow
from app.errors import Conflict, ValidationFailed
from app.registry.models import Certificate, CertificateCounter, Right
from app.vocabulary import CertificateStatus

KINDS = {"title": "不动产权", "proof": "不动产证明", "no_property": "无房证明"}
KIND_TITLES = {"title": "不动产权证书", "proof": "不动产登记证明", "no_property": "无房证明"}
SEQ_WIDTH = 7
NUMBER_RE = re.compile(r"^(?P<jc>[\u4e00-\u9fa5])[(（](?P<year>\d{4})[)）](?P<area>.+?)"
                       r"(?P<kind>不动产权|不动产证明|无房证明)第(?P<seq>\d{7})号$")


def local_year(at: datetime | None = None) -> int:
    return (at or utcnow()).astimezone(CHINA).year


def format_number(province_abbr: str, year: int, area: str, kind: str, seq: int) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown certificate kind {kind!r}")
    return f"{province_abbr}({year:04d}){area}{KINDS[kind]}第{seq:0{SEQ_WIDTH}d}号"


def parse_number(number: str) -> dict[str, str | int]:
    """Split a number into its parts; accepts half- and full-width brackets."""
    match = NUMBER_RE.match((number or "").strip())
    if match is None:
        raise ValidationFailed("证书号格式不正确", field="number")
    kind = {v: k for k, v in KINDS.items()}[match["kind"]]
    return {"province_abbr": match["jc"], "year": int(match["year"]), "area": match["area"], "kind": kind,
            "seq": int(match["seq"])}


def next_seq(session: Session, tenant_id: str, kind: str, year: int) -> int:
    return next_counter_value(session, CertificateCounter, tenant_id=tenant_id, kind=kind, year=year)


def void_number(session: Session, certificate: Certificate, *, reason: str) -> Certificate:
    """Mark an issued number as 废号 (spoiled print, wrong content …). The row and its number stay; the
    counter never goes back, so the replacement gets a new number. The right no longer points at it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写作废原因", field="reason")
    if certificate.status == CertificateStatus.VOIDED:
        raise Conflict("该证书号已作废", code="certificate_already_voided")
    certificate.status, certificate.void_reason = CertificateStatus.VOIDED, reason[:200]
    certificate.revoked_at = utcnow()
    if certificate.right_id:
        right = session.get(Right, certificate.right_id)
        if right is not None and right.cert_no == certificate.number:
            right.cert_no = None
    session.flush()
    return certificate
