"""Signing certificate PDFs with the registration office's key, and checking them offline.

Keys are configuration: production reads the office key, its certificate and the trust root from the paths
in the settings (``CERT_SIGNING_KEY_FILE`` …); development generates a throw-away root CA and an office
signing certificate (ECDSA P-256) under ``instance/keys/`` on ``flask setup`` or on first use. Nothing here
fetches anything: validation trusts only the root shipped with the verifier and needs no network.

pyHanko and asn1crypto (≈ 30 MB once imported) are imported by the functions that sign or validate, never at
import: a web worker that serves no signature never loads them (issue 18, docs/deployment.md).
"""
from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import current_app

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import signers

T = TypeVar("T")

FIELD_NAME = "登记机构电子签章"
SIG_BYTES = 8192


@dataclass(frozen=True)
class KeyPaths:
    key: Path  # office signing key (PEM, PKCS#8)
    cert: Path  # office signing certificate (PEM)
    root: Path  # trust root the verifier ships (PEM)
    generate: bool = False  # development: create the three files when missing


def dev_key_paths(instance_path: Path) -> KeyPaths:
    keys = instance_path / "keys"
    return KeyPaths(key=keys / "office-signing.key.pem", cert=keys / "office-signing.cert.pem",
                    root=keys / "dev-root-ca.cert.pem", generate=True)


class _PerThread(threading.local):
    """The loaded signer and trust roots, one set per thread: asn1crypto parses and re-encodes a certificate's
    fields lazily on first use, so two request threads of one worker using the same objects at once corrupt them
    (issue 18: concurrent 申请书 signatures answered 500, "Integer value must be an integer … not NoneType")."""

    def __init__(self) -> None:
        self.signers: dict[KeyPaths, signers.SimpleSigner] = {}
        self.roots: dict[Path, Any] = {}


_cache = _PerThread()


def configured_paths() -> KeyPaths:
    """This app's key files (``app.extensions["signing_keys"]``, set by ``app.registry.init_app``; loaded, or
    generated in development, on first use)."""
    paths: KeyPaths = current_app.extensions["signing_keys"]
    return paths


def ensure_dev_keys(paths: KeyPaths, office_name: str = "不动产登记机构（开发环境）") -> bool:
    """Create a dev root CA and an office signing certificate if the files are missing. True if created."""
    if paths.key.exists() and paths.cert.exists() and paths.root.exists():
        return False
    if not paths.generate:
        raise RuntimeError(f"certificate signing key files are missing: {paths.key}, {paths.cert}, {paths.root}")
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                           x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bdcdj development"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "bdcdj 开发用根证书（不可用于生产）")])
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    office_key = ec.generate_private_key(ec.SECP256R1())
    office = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                                       x509.NameAttribute(NameOID.ORGANIZATION_NAME, office_name),
                                       x509.NameAttribute(NameOID.COMMON_NAME, f"{office_name} 电子签章")]))
              .issuer_name(root_name).public_key(office_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1825))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                           crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                             critical=False)
              .sign(root_key, hashes.SHA256()))
    paths.key.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(paths.root, root.public_bytes(serialization.Encoding.PEM), 0o644)
    _write_atomic(paths.cert, office.public_bytes(serialization.Encoding.PEM), 0o644)
    _write_atomic(paths.key, office_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()), 0o600)
    return True


def _write_atomic(path: Path, content: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _signer(paths: KeyPaths) -> signers.SimpleSigner:
    signer = _cache.signers.get(paths)
    if signer is None:
        from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        ensure_dev_keys(paths)
        root = load_cert_from_pemder(str(paths.root))
        signer = signers.SimpleSigner(
            signing_cert=load_cert_from_pemder(str(paths.cert)),
            signing_key=load_private_key_from_pemder(str(paths.key), passphrase=None),
            cert_registry=SimpleCertificateStore.from_certs([root]),
        )
        _cache.signers[paths] = signer
    return signer


def load_signing_keys(paths: KeyPaths) -> None:
    """Read the office key, its certificate and the trust root now; raises when one is missing or unreadable,
    or the key is not the certificate's — the readiness check, so a host without its keys takes no 缮证. Read
    with ``cryptography`` alone: a worker asked ``/readyz`` does not load pyHanko for it (issue 18)."""
    ensure_dev_keys(paths)
    key = serialization.load_pem_private_key(paths.key.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(paths.cert.read_bytes())
    x509.load_pem_x509_certificate(paths.root.read_bytes())
    if key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) \
            != cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo):
        raise ValueError(f"the office signing key {paths.key} is not the key of its certificate {paths.cert}")


def trust_root(paths: KeyPaths | None = None) -> asn1_x509.Certificate:
    paths = paths or configured_paths()
    root = _cache.roots.get(paths.root)
    if root is None:
        from pyhanko.keys import load_cert_from_pemder

        ensure_dev_keys(paths)
        root = _cache.roots[paths.root] = load_cert_from_pemder(str(paths.root))
    return root


def sign_pdf(pdf: bytes, *, reason: str, location: str, paths: KeyPaths | None = None) -> bytes:
    """Add an (invisible) PAdES signature by the office key; the seal is drawn on the page itself.

    pyHanko's synchronous API runs its own event loop (``asyncio.run``): see ``_outside_event_loop``."""
    return _outside_event_loop(_sign, pdf, reason=reason, location=location, paths=paths or configured_paths())


def _outside_event_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """pyHanko's synchronous calls use ``asyncio.run``, which fails in a thread that already runs an event loop
    (an async server, or a test driving a browser): there they run in a short-lived worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def _sign(pdf: bytes, *, reason: str, location: str, paths: KeyPaths) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, reason=reason, location=location,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    # A fixed reservation (an ECDSA CMS blob is ~1.5 KB) spares pyHanko its dry-run signature to measure size.
    out = signers.sign_pdf(writer, meta, signer=_signer(paths), bytes_reserved=SIG_BYTES)
    return out.getvalue()


def validate_certificate_pdf(pdf: bytes, *, root: asn1_x509.Certificate | None = None) -> tuple[bool, dict[str, Any]]:
    """Check the office signature offline against the shipped trust root.

    Valid means: exactly one signature, intact (the signed bytes hash matches), cryptographically valid,
    covering the whole file, and chaining to the trusted root. ``details`` says which check failed.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    details: dict[str, Any] = {"signatures": 0}
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = reader.embedded_signatures
    except Exception as exc:  # malformed or truncated files are simply invalid
        return False, {**details, "error": f"unreadable: {type(exc).__name__}"}
    details["signatures"] = len(embedded)
    if len(embedded) != 1:
        return False, {**details, "error": "expected exactly one signature"}
    context = ValidationContext(trust_roots=[root or trust_root()], allow_fetching=False,
                                revocation_mode="soft-fail")
    try:
        status = _outside_event_loop(validate_pdf_signature, embedded[0], context)
    except Exception as exc:
        return False, {**details, "error": f"validation failed: {type(exc).__name__}"}
    coverage = status.coverage.name if status.coverage is not None else None
    details.update(intact=status.intact, valid=status.valid, trusted=status.trusted, coverage=coverage,
                   signer=status.signing_cert.subject.human_friendly if status.signing_cert else None,
                   signed_at=status.signer_reported_dt.isoformat() if status.signer_reported_dt else None)
    ok = bool(status.intact and status.valid and status.trusted and coverage == "ENTIRE_FILE")
    return ok, details
