"""The two file formats of the ferry, pure crypto and JSON (no database), so each side checks what it receives
with the other side's public key alone.

Export package (extranet → intranet, one way, ``ferry-00000001.json``)::

    {"format": "bdcdj-ferry/1", "body": {"seq": n, "prev": <sha256 of package n-1's file or null>,
     "issuer": "330100", "results": [<the 登簿 results it carries>], "log": <register-log package>},
     "signature": <base64 DER ECDSA over the canonical JSON of body, by the registration authority's key>}

``log`` is app/registry/log_export.py's package: the signed checkpoint it ends at, the checkpoint it continues
from (the previous package's) and every entry between them, so the chains are checked against signed heads.

Return file (intranet → extranet, offline, ``return-00000001.json``)::

    {"format": "bdcdj-ferry-return/1", "body": {"seq": n, "nonce": "…", "issuer": "intranet:330100",
     "issued_at": "…", "results": [{"business_no", "unit_code", "passed", "remarks", "reviewer",
     "reviewed_at"}]}, "signature": <base64url Ed25519 over "FERRYRET1\\n" + canonical(body), the intranet's key>}
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.registry.checkpoint_log import canonical, load_public_key

EXPORT_FORMAT = "bdcdj-ferry/1"
RETURN_FORMAT = "bdcdj-ferry-return/1"
RETURN_CONTEXT = b"FERRYRET1\n"


def package_name(seq: int) -> str:
    return f"ferry-{seq:08d}.json"


def return_name(seq: int) -> str:
    return f"return-{seq:08d}.json"


def file_bytes(document: dict[str, Any]) -> bytes:
    """How a package or return file is written: canonical JSON, so its SHA-256 is that of its content."""
    return canonical(document)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sign_export(body: dict[str, Any], key_pem: bytes) -> dict[str, Any]:
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the export package is signed with the office's ECDSA key")
    signature = key.sign(canonical(body), ec.ECDSA(hashes.SHA256()))
    return {"format": EXPORT_FORMAT, "body": body, "signature": base64.b64encode(signature).decode()}


def export_signature_ok(document: dict[str, Any], public_pem: bytes) -> bool:
    public_key = load_public_key(public_pem)
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(document.get("signature"), str):
        return False
    try:
        public_key.verify(base64.b64decode(document["signature"]), canonical(document["body"]),
                          ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def sign_return(body: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    signature = key.sign(RETURN_CONTEXT + canonical(body))
    return {"format": RETURN_FORMAT, "body": body, "signature": base64.urlsafe_b64encode(signature).decode()}


def return_signature_ok(document: dict[str, Any], public_key: Ed25519PublicKey) -> bool:
    signature = document.get("signature")
    if not isinstance(signature, str) or not isinstance(document.get("body"), dict):
        return False
    try:
        public_key.verify(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
                          RETURN_CONTEXT + canonical(document["body"]))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def write_new(path: Path, data: bytes) -> None:
    """Write ``path`` atomically and only once: the bytes go to a hidden temporary file, are flushed to disk,
    then linked to the final name (which fails if it exists: a package is never rewritten) — a reader of the
    directory sees the whole file or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_document(path: Path) -> tuple[dict[str, Any], bytes]:
    """The parsed file and its bytes; a file that is not JSON raises ValueError."""
    data = path.read_bytes()
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError("文件不是有效的 JSON") from exc
    if not isinstance(document, dict):
        raise ValueError("文件不是有效的摆渡文件")
    return document, data
