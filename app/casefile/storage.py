"""Where uploaded and issued files live. A local directory by default; an object store can implement the
same methods in production.

Files follow the transaction that references them: ``put`` writes an encrypted file under ``pending/`` and
it is moved to its final place only after the session commits (removed if it rolls back); ``delete``
removes the file only after the commit. So a crash in the middle of a step (缮证 killed after signing the
PDF, before the commit that records its number) leaves no signed file that a later step could contradict
by issuing the same number again: what is left is an unreferenced pending file that ``sweep_pending``
removes. Contents are sealed per tenant with SM4 (``app.security.file_crypto``).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.db import new_id, register_pending_work
from app.security.file_crypto import FileCipher

_PENDING = "storage_pending"
_DELETES = "storage_deletes"
register_pending_work(_PENDING)
register_pending_work(_DELETES)


class Storage(Protocol):
    def put(self, session: Session, content: bytes, *, tenant_id: str) -> str: ...
    def get(self, key: str, *, tenant_id: str) -> bytes: ...
    def delete(self, session: Session, key: str) -> None: ...
    def check_writable(self) -> None: ...


class LocalStorage:
    def __init__(self, root: Path, cipher: FileCipher | None = None) -> None:
        self.root = root
        self.cipher = cipher

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("bad storage key")
        return self.root / key[:2] / key

    def _pending_path(self, key: str) -> Path:
        return self.root / "pending" / key

    def put(self, session: Session, content: bytes, *, tenant_id: str) -> str:
        key = new_id()
        session.connection()  # the file belongs to this transaction, so make sure there is one
        data = self.cipher.seal(content, tenant_id=tenant_id, name=key) if self.cipher else content
        pending = self._pending_path(key)
        pending.parent.mkdir(parents=True, exist_ok=True)
        _write_durably(pending, data)
        session.info.setdefault(_PENDING, []).append((self, key))
        return key

    def get(self, key: str, *, tenant_id: str) -> bytes:
        path = self._path(key)
        if not path.exists() and self._pending_path(key).exists():
            self._promote(key)  # the caller read the key from a committed row: the rename was cut short
        data = path.read_bytes()
        return self.cipher.open(data, tenant_id=tenant_id, name=key) if self.cipher else data

    def delete(self, session: Session, key: str) -> None:
        self._path(key)
        session.info.setdefault(_DELETES, []).append((self, key))

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def check_writable(self) -> None:
        """Raise unless a file can be written here now (the readiness check: a full or read-only volume
        must take the process out of the load balancer, not fail the next upload)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
            pass

    def _promote(self, key: str) -> None:
        final, pending = self._path(key), self._pending_path(key)
        if final.exists() and not pending.exists():
            return  # already promoted: read back (``get``) in the transaction that wrote it, e.g. a signature
            # drawn into the 申请书 it completes; a rollback still discards it
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(pending, final)

    def _discard(self, key: str) -> None:
        self._pending_path(key).unlink(missing_ok=True)
        self._path(key).unlink(missing_ok=True)

    def sweep_pending(self, *, older_than_s: float, referenced: Callable[[str], bool]) -> int:
        """Remove pending files left by a process that died before its commit (kill -9, power loss).
        ``referenced`` says whether a committed row names the key (then the file is promoted instead)."""
        removed = 0
        cutoff = time.time() - older_than_s
        folder = self.root / "pending"
        for path in folder.iterdir() if folder.is_dir() else []:
            try:
                if path.stat().st_mtime > cutoff:
                    continue  # may belong to a transaction still running in another process
            except FileNotFoundError:  # its transaction ended meanwhile: promoted or discarded (issue 18's load)
                continue
            if referenced(path.name):
                self._promote(path.name)
            else:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


@event.listens_for(Session, "after_commit")
def _files_follow_commit(session: Session) -> None:
    for storage, key in session.info.pop(_PENDING, []):
        storage._promote(key)
    for storage, key in session.info.pop(_DELETES, []):
        storage._discard(key)


@event.listens_for(Session, "after_transaction_end")
def _files_follow_rollback(session: Session, transaction: SessionTransaction) -> None:
    """Any end of the outermost transaction other than a commit (rollback, close) drops its files."""
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction may still commit its files
    for storage, key in session.info.pop(_PENDING, []):
        storage._discard(key)
    session.info.pop(_DELETES, None)


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
