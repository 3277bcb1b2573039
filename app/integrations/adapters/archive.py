"""档案馆 / 数字档案室 (``archive`` interface): receiving a case's electronic archive package (DA/T 48 EEP XML).
The receiver checks the SHA-256 it is told against the body and answers a receipt number; it acknowledges a
档号 it already holds with the same receipt, so a resend after a lost answer is harmless."""
from __future__ import annotations

import json
from urllib.parse import quote

from sqlalchemy.orm import Session

from app.integrations.client import CallContext, ServiceUnavailable, call

MEDIA = "application/xml"


def send_package(session: Session, archive_no: str, xml: bytes, sha256: str) -> str:
    """POST the package; the receipt number. ``ServiceUnavailable`` when the archive cannot take it now."""
    reply = call(session, "archive", "receive_package", "POST",
                 f"/archive/packages?archive_no={quote(archive_no)}&sha256={sha256}", ctx=CallContext(),
                 summary={"archive_no": archive_no, "sha256": sha256, "size": len(xml)}, answers=(),
                 content=(xml, MEDIA))
    try:
        receipt = str(json.loads(reply.content or b"{}").get("receipt") or "")
    except (ValueError, AttributeError):
        receipt = ""
    if not receipt:
        raise ServiceUnavailable("档案接收系统未返回回执")
    return receipt
