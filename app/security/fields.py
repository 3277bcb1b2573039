"""Encrypted personal-data attributes on ORM models.

A model declares ``name = EncryptedField("name_enc", index="name_bidx")``: the attribute reads and writes
plain text, the row stores only ciphertext bound to ``table:attribute:row id`` and, where exact search is
needed, an HMAC blind index. The keys are the app's (``app.extensions["keyring"]``, set by
``app.security.init_app``). Requests, ``flask`` commands, scheduler jobs and the benchmarks all run in an
app context; rows are also read and written where none is active — tests that call use cases and jobs on a
session of their own (``db.unit_of_work()``) — so ``init_app`` also leaves its keyring as the process default
those fall back to; inside an app the app's own keyring is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

from app.security.crypto import BlindIndex, FieldCipher


@dataclass(frozen=True)
class Keyring:
    cipher: FieldCipher
    blind_index: BlindIndex


_default: list[Keyring] = []  # the process default: the keyring of the app set up last (see the docstring)


def configure(keyring: Keyring) -> None:
    _default[:] = [keyring]


def keyring() -> Keyring:
    if has_app_context():
        current: Keyring = current_app.extensions["keyring"]
        return current
    if not _default:
        raise RuntimeError("field encryption keys are not configured (app.security.init_app configures them)")
    return _default[0]


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
