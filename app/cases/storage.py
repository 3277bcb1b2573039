"""Where uploaded files live. A local directory by default; an object store can implement the same
three methods in production."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from app.db import new_id


class Storage(Protocol):
    def put(self, content: bytes) -> str: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("bad storage key")
        return self.root / key[:2] / key

    def put(self, content: bytes) -> str:
        key = new_id()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
