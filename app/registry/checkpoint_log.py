"""The checkpoint log on disk: signed statements of every chain head, outside the database.

A checkpoint's ``body`` names, for every unit with entries, its entry count and head hash (``heads``), their
RFC 6962 Merkle root and total, the audit log's head, the time and the previous checkpoint's digest (so the
log is itself a chain). The registration authority's key (the certificate PKI of app/registry/signing.py,
never in the database) signs the canonical JSON of the body; an RFC 3161 token stamps its SHA-256. The log is
a JSON Lines file opened for append only: a ``checkpoint`` line, and a later ``timestamp`` line when the TSA
was down at the time. Everything here is pure file and crypto work, so a receiving zone can check a record
with the public key alone (app/registry/log_export.py).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from app.registry.merkle import merkle_root

LOG_FILE = "checkpoints.jsonl"


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def heads_root(heads: list[list[Any]]) -> str:
    """Merkle root over ``[unit_code, count, head_hash]`` triples, sorted by unit code."""
    return merkle_root([canonical(h) for h in sorted(heads)])


@dataclass(frozen=True)
class Checkpoint:
    body: dict[str, Any]
    signature: str  # base64 DER ECDSA over canonical(body)
    cert: str  # PEM of the signing certificate (information: verifiers bring their own trusted key)
    token: str | None = None  # base64 DER RFC 3161 TimeStampToken over sha256(canonical(body))

    @property
    def seq(self) -> int:
        return int(self.body["seq"])

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(canonical(self.body)).digest()

    @property
    def heads(self) -> dict[str, tuple[int, str]]:
        return {code: (int(count), head) for code, count, head in self.body["register"]["heads"]}

    def record(self) -> dict[str, Any]:
        return {"type": "checkpoint", "body": self.body, "signature": self.signature, "cert": self.cert,
                "token": self.token}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Checkpoint:
        return cls(body=record["body"], signature=record["signature"], cert=record["cert"], token=record.get("token"))


def sign_body(body: dict[str, Any], key_pem: bytes, cert_pem: bytes) -> Checkpoint:
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("checkpoint signing expects the office's ECDSA key")
    signature = key.sign(canonical(body), ec.ECDSA(hashes.SHA256()))
    return Checkpoint(body=body, signature=base64.b64encode(signature).decode(), cert=cert_pem.decode())


def load_public_key(pem: bytes) -> PublicKeyTypes:
    """A PEM certificate or a bare public key: what a receiving zone was given out of band."""
    if b"BEGIN CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)


def signature_ok(checkpoint: Checkpoint, public_key: PublicKeyTypes) -> bool:
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return False
    try:
        public_key.verify(base64.b64decode(checkpoint.signature), canonical(checkpoint.body),
                          ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def body_problems(checkpoint: Checkpoint) -> list[str]:
    """What does not add up inside a (signed) body: the root and the total must follow from the heads."""
    register = checkpoint.body["register"]
    problems = []
    if heads_root(register["heads"]) != register["root"]:
        problems.append("检查点的默克尔根与链头列表不符")
    if sum(int(h[1]) for h in register["heads"]) != register["entries"]:
        problems.append("检查点的记载总数与链头列表不符")
    return problems


@dataclass
class CheckpointLog:
    """The append-only file under ``CHECKPOINT_DIR``; readers merge late ``timestamp`` lines into their
    checkpoint."""

    directory: Path

    @property
    def path(self) -> Path:
        return self.directory / LOG_FILE

    def checkpoints(self) -> list[Checkpoint]:
        if not self.path.exists():
            return []
        by_seq: dict[int, Checkpoint] = {}
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            if record["type"] == "checkpoint":
                cp = Checkpoint.from_record(record)
                by_seq[cp.seq] = cp
            elif record["type"] == "timestamp" and record["seq"] in by_seq:
                by_seq[record["seq"]] = replace(by_seq[record["seq"]], token=record["token"])
        return [by_seq[s] for s in sorted(by_seq)]

    def latest(self) -> Checkpoint | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def get(self, seq: int) -> Checkpoint | None:
        return next((c for c in self.checkpoints() if c.seq == seq), None)

    def append(self, record: dict[str, Any]) -> None:
        """One line, appended and flushed to disk before the caller commits its transaction."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, canonical(record) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
