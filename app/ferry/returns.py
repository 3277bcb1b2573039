"""The offline return (光盘摆渡): the intranet's spatial-review results go back to the extranet as a signed file
carried by hand (a disc), the only thing that ever flows back.

Intranet: ``record_review`` keeps a result; ``write_return`` puts every result not yet returned into the next
file, signed with the intranet's own Ed25519 key (``FEDERATION_SIGNING_KEY`` of the intranet deployment), with a
sequence number and a random nonce. Extranet: ``import_return`` accepts a file only if it is signed by the
configured intranet public key (``FERRY_INTRANET_PUBLIC_KEY``) and neither its sequence number nor its nonce was
seen before (table ``ferry_return_received``: a replayed disc is refused); each result becomes a verification
snapshot of its case (shown on the workbench case page like other departments' checks) and is audited.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.casefile.models import Case
from app.db import utcnow
from app.errors import DomainError, ValidationFailed
from app.ferry.models import FerryReturnFile, FerryReturnReceived, FerryReview
from app.ferry.package import (
    RETURN_FORMAT,
    file_bytes,
    return_name,
    return_signature_ok,
    sha256,
    sign_return,
    write_new,
)
from app.integrations.verification_models import VerificationSnapshot
from app.security import audit

SOURCE, DEPARTMENT, OPERATION = "spatial_review", "内网空间审核", "空间审核结果回传"


class ReturnRefused(DomainError):
    """A return file that must not be accepted; ``code``: return_invalid, return_unsigned,
    return_signature_invalid, return_replayed, return_case_unknown."""

    status = 422
    code = "return_invalid"


def record_review(session: Session, *, business_no: str, unit_code: str | None, passed: bool, remarks: str,
                  reviewer: str) -> FerryReview:
    """Intranet: keep one spatial-review result until the next return file."""
    if not business_no.strip() or not reviewer.strip():
        raise ValidationFailed("业务号和审核人不能为空", code="review_incomplete")
    review = FerryReview(business_no=business_no.strip(), unit_code=(unit_code or "").strip() or None, passed=passed,
                         remarks=remarks.strip(), reviewer=reviewer.strip())
    session.add(review)
    session.flush()
    audit.record(session, actor_id=None, action="ferry.review_recorded", object_type="ferry_review",
                 object_id=review.id, after={"business_no": review.business_no, "passed": passed})
    return review


@dataclass(frozen=True)
class Written:
    seq: int
    results: int
    path: Path


def write_return(new_session: Callable[[], Session], directory: Path, key: Ed25519PrivateKey,
                 issuer: str) -> Written | None:
    """Intranet: the next signed return file with every result not yet returned; None when there is none. The
    file is written (atomically, never over another) before the transaction that marks the results commits."""
    with new_session() as session, session.begin():
        pending = session.execute(select(FerryReview).where(FerryReview.return_seq.is_(None))
                                  .order_by(FerryReview.reviewed_at, FerryReview.id)).scalars().all()
        if not pending:
            return None
        seq = (session.scalar(select(func.max(FerryReturnFile.seq))) or 0) + 1
        path = directory / return_name(seq)
        if path.exists():
            raise DomainError(f"{path.name} 已存在但未登记（上次写出未完成）：请核实后移走再写",
                              code="return_file_exists")
        nonce = os.urandom(16).hex()
        body = {"seq": seq, "nonce": nonce, "issuer": issuer, "issued_at": utcnow().isoformat(),
                "results": [{"business_no": r.business_no, "unit_code": r.unit_code, "passed": r.passed,
                             "remarks": r.remarks or "", "reviewer": r.reviewer,
                             "reviewed_at": r.reviewed_at.isoformat()}
                            for r in pending]}
        for review in pending:
            review.return_seq = seq
        session.add(FerryReturnFile(seq=seq, nonce=nonce, file_name=path.name, results=len(pending)))
        audit.record(session, actor_id=None, action="ferry.return_written", object_type="ferry_return",
                     object_id=str(seq), after={"results": len(pending)})
        session.flush()
        write_new(path, file_bytes(sign_return(body, key)))
    return Written(seq, len(pending), path)


def import_return(session: Session, document: dict[str, Any], data: bytes,
                  public_key: Ed25519PublicKey | None, actor_id: str | None = None) -> list[VerificationSnapshot]:
    """Extranet: accept one return file, attaching each result to its case; refused whole when unsigned, not
    signed by the intranet's key, replayed, or naming a case this platform does not have."""
    if document.get("format") != RETURN_FORMAT or not isinstance(document.get("body"), dict):
        raise ReturnRefused("不是空间审核结果回传文件", code="return_invalid")
    if not document.get("signature"):
        raise ReturnRefused("回传文件未签名，拒绝导入", code="return_unsigned")
    if public_key is None:
        raise ReturnRefused("本平台未配置内网公钥（FERRY_INTRANET_PUBLIC_KEY），无法验证回传文件",
                            code="return_key_missing")
    if not return_signature_ok(document, public_key):
        raise ReturnRefused("回传文件签名无效（不是内网的密钥签署，或内容被改动）", code="return_signature_invalid")
    body = document["body"]
    seq, nonce = int(body["seq"]), str(body["nonce"])
    newest = session.scalar(select(func.max(FerryReturnReceived.seq))) or 0
    seen = session.scalar(select(func.count()).select_from(FerryReturnReceived)
                          .where((FerryReturnReceived.seq == seq) | (FerryReturnReceived.nonce == nonce)))
    if seen or seq <= newest:
        raise ReturnRefused(f"回传文件 #{seq} 已导入过或早于已导入的 #{newest}，拒绝重放", code="return_replayed")
    results = body.get("results") or []
    cases = {c.business_no: c for c in session.execute(
        select(Case).where(Case.business_no.in_([r["business_no"] for r in results]))
        .execution_options(all_tenants=True)).scalars()}
    unknown = sorted({r["business_no"] for r in results} - set(cases))
    if unknown:
        raise ReturnRefused("回传文件中的业务号在本平台不存在：" + "、".join(unknown), code="return_case_unknown")
    session.add(FerryReturnReceived(seq=seq, nonce=nonce, sha256=sha256(data), results=len(results)))
    try:
        session.flush()
    except IntegrityError as exc:  # the same file imported at the same moment by another process
        raise ReturnRefused(f"回传文件 #{seq} 已导入过，拒绝重放", code="return_replayed") from exc
    snapshots = []
    for result in results:
        case = cases[result["business_no"]]
        verdict = "通过" if result["passed"] else "不通过"
        mark = "一致" if result["passed"] else "不一致"
        snap = VerificationSnapshot(case_id=case.id, tenant_id=case.tenant_id, business_no=case.business_no,
                                    source=SOURCE, department=DEPARTMENT, operation=OPERATION,
                                    subject_label=result.get("unit_code") or "", result=mark,
                                    marks={"空间审核结论": mark}, checked_at=utcnow())
        snap.fields = [
            {"label": "空间审核结论", "declared": None, "found": verdict, "mark": mark},
            {"label": "审核意见", "declared": None, "found": result.get("remarks") or "", "mark": mark},
            {"label": "审核人", "declared": None, "found": result.get("reviewer") or "", "mark": mark},
            {"label": "审核时间", "declared": None, "found": result.get("reviewed_at") or "", "mark": mark},
            {"label": "回传文件", "declared": None, "found": f"#{seq}", "mark": mark},
        ]
        session.add(snap)
        snapshots.append(snap)
        audit.record(session, actor_id=actor_id, action="ferry.return_imported", object_type="case",
                     object_id=case.id, tenant_id=case.tenant_id,
                     after={"return_seq": seq, "result": verdict, "unit_code": result.get("unit_code")})
    return snapshots


def import_return_upload(session: Session, actor_id: str | None, data: bytes,
                         public_key_text: str) -> list[VerificationSnapshot]:
    """Extranet, from the operators' upload page: the same checks as ``flask ferry return-import``."""
    import json

    from app.federation.signing import parse_public_key

    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReturnRefused("文件不是有效的 JSON", code="return_invalid") from exc
    if not isinstance(document, dict):
        raise ReturnRefused("不是空间审核结果回传文件", code="return_invalid")
    try:
        key = parse_public_key(public_key_text) if public_key_text else None
    except ValueError as exc:
        raise ReturnRefused("配置的内网公钥（FERRY_INTRANET_PUBLIC_KEY）无效", code="return_key_missing") from exc
    return import_return(session, document, data, key, actor_id=actor_id)


def received_returns(session: Session, limit: int = 50) -> list[FerryReturnReceived]:
    """The return files accepted, newest first (the upload page lists them)."""
    return list(session.execute(select(FerryReturnReceived).order_by(FerryReturnReceived.seq.desc())
                                .limit(limit)).scalars())
