"""Encryption of files at rest (ID-card scans, signature images, signed certificates) with SM4-GCM.

Each tenant (district office) gets its own file key, derived with HKDF-SM3 from a master key of the field
keyring and the tenant code, so one office's files are useless with another office's key and no extra
secret needs distributing. The file header names the master key id, so rotating the field keys leaves old
files readable for as long as their key stays in the keyring. The tenant and the storage key are the
associated data: a file copied under another name or office fails to open.
"""
from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.security.crypto import NONCE_SIZE, TAG_SIZE, DecryptionFailed, KeyringError, _open, _seal

MAGIC = b"BDCF"  # 不动产登记 file
FORMAT_VERSION = 1
ALGORITHM = "SM4-GCM"


class FileCipher:
    def __init__(self, master_keys: dict[str, bytes], active_key_id: str) -> None:
        if active_key_id not in master_keys:
            raise KeyringError(f"active key id {active_key_id!r} is not in the keyring {sorted(master_keys)}")
        self._masters = dict(master_keys)
        self._active = active_key_id

    def _tenant_key(self, key_id: str, tenant_id: str) -> bytes:
        master = self._masters.get(key_id)
        if master is None:
            raise DecryptionFailed(f"no key {key_id!r} for this file")
        return HKDF(algorithm=hashes.SM3(), length=16, salt=None,
                    info=b"bdcdj-file-key:" + tenant_id.encode("utf-8")).derive(master)

    @staticmethod
    def is_sealed(blob: bytes) -> bool:
        return blob.startswith(MAGIC + bytes([FORMAT_VERSION]))

    def seal(self, content: bytes, *, tenant_id: str, name: str) -> bytes:
        kid = self._active.encode("ascii")
        header = MAGIC + bytes([FORMAT_VERSION, len(kid)]) + kid
        nonce = os.urandom(NONCE_SIZE)
        sealed = _seal(ALGORITHM, self._tenant_key(self._active, tenant_id), nonce, content,
                       header + f"file:{tenant_id}:{name}".encode())
        return header + nonce + sealed

    def open(self, blob: bytes, *, tenant_id: str, name: str) -> bytes:
        """Plain files written before encryption are returned as they are (no header); see ``is_sealed``."""
        if not self.is_sealed(blob):
            return blob
        kid_len = blob[len(MAGIC) + 1]
        header = blob[:len(MAGIC) + 2 + kid_len]
        body = blob[len(header):]
        if len(body) < NONCE_SIZE + TAG_SIZE:
            raise DecryptionFailed("file truncated")
        key_id = header[len(MAGIC) + 2:].decode("ascii", errors="replace")
        try:
            return _open(ALGORITHM, self._tenant_key(key_id, tenant_id), body[:NONCE_SIZE], body[NONCE_SIZE:],
                         header + f"file:{tenant_id}:{name}".encode())
        except InvalidTag:
            raise DecryptionFailed("authentication failed") from None
