"""Checking a package OFFLINE (``flask archives verify``, the fixity job, a receiving archive): the office's
signature against the public key the verifier was given, the RFC 3161 time stamp, and each document's SHA-256.
Needs the package bytes and the key only — no database, no network."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from app.archives.eep import ParsedPackage, parse
from app.registry.checkpoint_log import load_public_key


@dataclass
class PackageCheck:
    archive_no: str = ""
    documents: int = 0
    stamped_at: datetime | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def signed_digest(package: ParsedPackage) -> bytes:
    return hashlib.sha256(package.signed_bytes).digest()


def verify_package(xml: bytes, public_pem: bytes, tsa_root_pem: bytes | None = None,
                   *, require_timestamp: bool = True) -> PackageCheck:
    try:
        package = parse(xml)
    except ValueError as exc:
        return PackageCheck(problems=[str(exc)])
    check = PackageCheck(archive_no=package.archive_no, documents=len(package.documents))
    key = load_public_key(public_pem)
    try:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature
        key.verify(package.signature, package.signed_bytes, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        check.problems.append("签名无效：封装内容被改动，或不是该登记机构的密钥签署")
    for doc in package.documents:
        try:
            actual = hashlib.sha256(base64.b64decode(doc["data"], validate=True)).hexdigest()
        except ValueError:
            actual = ""
        if actual != doc["sha256"]:
            check.problems.append(f"文档 {doc['seq']}（{doc['title']}）的SHA-256与记录的摘要不符")
    if package.token is None:
        (check.problems if require_timestamp else check.notes).append("封装包没有时间戳")
    else:
        from asn1crypto import x509 as asn1_x509  # on use: a web worker importing this loads no signature stack

        from app.integrations.tsa import check_token

        roots = [asn1_x509.Certificate.load(_der(tsa_root_pem))] if tsa_root_pem else []
        token = check_token(package.token, signed_digest(package), roots)
        if not token.intact:
            check.problems.append("时间戳无效或与封装内容不符")
        else:
            check.stamped_at = token.stamped_at
            trust = "时间戳机构证书已验证" if token.trusted else "未提供时间戳机构根证书，仅校验了时间戳签名"
            check.notes.append(f"时间戳 {token.stamped_at.isoformat() if token.stamped_at else '?'}（{trust}）")
    return check


def _der(pem_or_der: bytes) -> bytes:
    if b"-----BEGIN" in pem_or_der:
        body = b"".join(line for line in pem_or_der.splitlines() if line and not line.startswith(b"-----"))
        return base64.b64decode(body)
    return pem_or_der
