"""Encrypted personal-data attributes on ORM models.

A model declares ``name = EncryptedField("name_enc", index="name_bidx")``: the attribute reads and writes
plain text, the row stores only ciphertext bound to ``table:attribute:row id`` and, where exact search is
needed, an HMAC blind index. The keys are process configuration set once by ``create_app``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.security.crypto import BlindIndex, FieldCipher


@dataclass(frozen=True)
class Keyring:
    cipher: FieldCipher
    blind_index: BlindIndex


_keyring: Keyring | None = None


def configure(keyring: Keyring) -> None:
    global _keyring
    _keyring = keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("field encryption keys are not configured (create_app configures them)")
    return _keyring


def blind_index(value: str) -> str:
    return keyring().blind_index.compute(value)


def encrypt_json(obj: Any, aad: str) -> bytes:
    return keyring().cipher.encrypt_json(obj, aad)


def decrypt_json(blob: bytes, aad: str) -> Any:
    return keyring().cipher.decrypt_json(blob, aad)


class EncryptedField:
    """Descriptor over a LargeBinary column (and optionally a blind-index column)."""

    def __init__(self, column: str, *, index: str | None = None) -> None:
        self.column = column
        self.index = index
        self.name = column

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _aad(self, obj: Any) -> str:
        return f"{obj.__tablename__}:{self.name}:{obj.ensure_id()}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        blob = getattr(obj, self.column)
        if blob is None:
            return None
        return keyring().cipher.decrypt(bytes(blob), self._aad(obj))

    def __set__(self, obj: Any, value: str | None) -> None:
        if value is None or value == "":
            setattr(obj, self.column, None)
            if self.index:
                setattr(obj, self.index, None)
            return
        setattr(obj, self.column, keyring().cipher.encrypt(str(value), self._aad(obj)))
        if self.index:
            setattr(obj, self.index, blind_index(str(value)))
