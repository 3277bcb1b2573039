"""Field-level encryption of personal data (names, ID numbers, phones) and blind indexes for lookups.

Each blob names its format, algorithm and key id so that keys can be rotated (old rows stay readable
while new rows use the active key) and SM4 (国密, required by some registries) can replace AES without a
flag day. The header is authenticated together with a caller-supplied context such as
``"party:name:<row id>"``, so a ciphertext copied into another row or column fails to decrypt.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import unicodedata
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_SIZES: dict[str, int] = {"SM4-GCM": 16, "AES-256-GCM": 32}  # the algorithms, by name (configuration text)
_ALGORITHM_IDS: dict[str, int] = {"SM4-GCM": 1, "AES-256-GCM": 2}
_ALGORITHM_NAMES = {v: k for k, v in _ALGORITHM_IDS.items()}
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class DecryptionFailed(Exception):
    """Wrong context, unknown key, or tampered data. Deliberately vague: callers must not learn which."""


class KeyringError(ValueError):
    """The key configuration is unusable; raised at start-up so a bad deployment fails loudly."""


def _check_key_id(key_id: str) -> None:
    if not _KEY_ID.fullmatch(key_id):
        raise KeyringError(f"invalid key id {key_id!r}: use 1-64 characters of A-Z a-z 0-9 . _ -")


class FieldCipher:
    def __init__(self, keys: dict[str, bytes], active_key_id: str, algorithm: str) -> None:
        if algorithm not in KEY_SIZES:
            raise KeyringError(f"unsupported algorithm {algorithm!r}; expected one of {sorted(KEY_SIZES)}")
        if active_key_id not in keys:
            raise KeyringError(f"active key id {active_key_id!r} is not in the keyring {sorted(keys)}")
        for key_id, key in keys.items():
            _check_key_id(key_id)
            # Older keys may belong to the other algorithm (migration AES → SM4), so any supported size
            # is fine for them; the active key must fit the active algorithm.
            if not isinstance(key, bytes) or len(key) not in KEY_SIZES.values():
                raise KeyringError(f"key {key_id!r} must be 16 (SM4) or 32 (AES-256) bytes")
        if len(keys[active_key_id]) != KEY_SIZES[algorithm]:
            raise KeyringError(f"active key {active_key_id!r} is {len(keys[active_key_id])} bytes; "
                               f"{algorithm} needs {KEY_SIZES[algorithm]}")
        self._keys = dict(keys)
        self._active = active_key_id
        self._algorithm = algorithm

    @property
    def active_key_id(self) -> str:
        return self._active

    def encrypt(self, plaintext: str, aad: str) -> bytes:
        kid = self._active.encode("ascii")
        header = bytes([FORMAT_VERSION, _ALGORITHM_IDS[self._algorithm], len(kid)]) + kid
        nonce = os.urandom(NONCE_SIZE)
        sealed = _seal(self._algorithm, self._keys[self._active], nonce,
                       plaintext.encode("utf-8"), header + aad.encode("utf-8"))
        return header + nonce + sealed

    def decrypt(self, blob: bytes, aad: str) -> str:
        header, algorithm, key_id = _parse_header(blob)
        key = self._keys.get(key_id)
        if key is None or len(key) != KEY_SIZES[algorithm]:
            raise DecryptionFailed(f"no usable key {key_id!r} for {algorithm}")
        body = blob[len(header):]
        if len(body) < NONCE_SIZE + TAG_SIZE:
            raise DecryptionFailed("ciphertext truncated")
        try:
            plain = _open(algorithm, key, body[:NONCE_SIZE], body[NONCE_SIZE:],
                          header + aad.encode("utf-8"))
            return plain.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise DecryptionFailed("authentication failed") from None

    def key_id(self, blob: bytes) -> str:
        """Which key sealed ``blob`` — lets a re-encryption job find rows still on a retired key."""
        return _parse_header(blob)[2]

    def encrypt_json(self, obj: Any, aad: str) -> bytes:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return self.encrypt(text, aad)

    def decrypt_json(self, blob: bytes, aad: str) -> Any:
        return json.loads(self.decrypt(blob, aad))


def _parse_header(blob: bytes) -> tuple[bytes, str, str]:
    if not isinstance(blob, (bytes, bytearray, memoryview)) or len(blob) < 3:
        raise DecryptionFailed("not an encrypted field")
    blob = bytes(blob)
    version, alg_id, kid_len = blob[0], blob[1], blob[2]
    if version != FORMAT_VERSION or alg_id not in _ALGORITHM_NAMES or len(blob) < 3 + kid_len:
        raise DecryptionFailed("unknown encrypted-field format")
    try:
        key_id = blob[3:3 + kid_len].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionFailed("unknown encrypted-field format") from None
    return blob[:3 + kid_len], _ALGORITHM_NAMES[alg_id], key_id


def _seal(algorithm: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if algorithm == "AES-256-GCM":
        return AESGCM(key).encrypt(nonce, data, aad)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    return enc.update(data) + enc.finalize() + enc.tag


def _open(algorithm: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if algorithm == "AES-256-GCM":
        return AESGCM(key).decrypt(nonce, sealed, aad)
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-TAG_SIZE:])).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(sealed[:-TAG_SIZE]) + dec.finalize()


class BlindIndex:
    """Deterministic keyed hash for exact-match search on encrypted columns.

    Use a key separate from the encryption keys: the index leaks equality by design, and must not
    weaken the ciphertexts. Normalising first makes '11010519491231002x' and ' 11010519491231002X' meet.
    """

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise KeyringError("blind-index key must be at least 16 bytes")
        self._key = key

    @staticmethod
    def normalise(value: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()

    def compute(self, value: str) -> str:
        digest = hmac.new(self._key, self.normalise(value).encode("utf-8"), hashlib.sha256).digest()
        return digest[:16].hex()


def generate_key(algorithm: str) -> bytes:
    if algorithm not in KEY_SIZES:
        raise KeyringError(f"unsupported algorithm {algorithm!r}; expected one of {sorted(KEY_SIZES)}")
    return os.urandom(KEY_SIZES[algorithm])


def parse_keyring(text: str) -> dict[str, bytes]:
    """Parse ``"k1:BASE64,k2:BASE64"`` (an environment variable) into ``{key id: key bytes}``."""
    keys: dict[str, bytes] = {}
    entries = [e.strip() for e in (text or "").split(",") if e.strip()]
    if not entries:
        raise KeyringError("keyring is empty; expected 'keyid:BASE64[,keyid:BASE64…]'")
    for n, entry in enumerate(entries, 1):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep:
            raise KeyringError(f"keyring entry {n} has no ':' between key id and base64 key")
        _check_key_id(key_id)
        if key_id in keys:
            raise KeyringError(f"keyring lists key id {key_id!r} twice")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"key {key_id!r} is not valid base64") from None
        if len(key) not in KEY_SIZES.values():
            raise KeyringError(f"key {key_id!r} is {len(key)} bytes; expected 16 (SM4) or 32 (AES-256)")
        keys[key_id] = key
    return keys
