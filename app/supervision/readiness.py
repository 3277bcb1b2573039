"""Readiness: may this process take traffic? A load balancer asks ``/readyz`` and sends requests only to
processes that answer 200 — one that cannot reach the database, runs code newer than the schema (``flask
setup`` not yet run after an upgrade), has no certificate signing keys or cannot write files would fail the
requests it got (a schema *newer* than the code is fine: a rolling upgrade migrates before it replaces the
processes). Liveness (``/healthz``) is the other question and asks nothing of the database, so an outage
of the database does not get every worker restarted.

Each check runs on its own; a failure is logged here with its cause and answered only by its name (the
answer is public: no host, path or driver message leaves through it)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.casefile.storage import Storage
from app.db import ping
from app.migrate import database_revisions, head_revisions, known_revisions
from app.registry.signing import KeyPaths, load_signing_keys

log = logging.getLogger(__name__)

CHECKS = ("database", "migrations", "signing_keys", "storage")


@dataclass(frozen=True)
class Readiness:
    failed: tuple[str, ...]  # names from CHECKS, in that order

    @property
    def ready(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "unavailable",
                "checks": {name: "failed" if name in self.failed else "ok" for name in CHECKS},
                "failed": list(self.failed)}


def _schema_not_behind(session: Session) -> None:
    """The schema is this code's head — or newer: during a rolling upgrade ``flask setup`` has migrated for the
    next release (its migrations keep the previous release working) and this process serves until replaced."""
    found = database_revisions(session.connection())
    if found == head_revisions() or (found and not found <= known_revisions()):
        return
    raise RuntimeError(f"database at {sorted(found)}, code expects {sorted(head_revisions())}: run flask setup")


def check_readiness(session: Session, *, signing_keys: KeyPaths, storage: Storage) -> Readiness:
    """Run every check (one statement each for the database and the schema version; the keys are loaded once
    and kept; one small file written and removed)."""
    checks: dict[str, Callable[[], None]] = {
        "database": lambda: ping(session),
        "migrations": lambda: _schema_not_behind(session),
        "signing_keys": lambda: load_signing_keys(signing_keys),
        "storage": storage.check_writable,
    }
    failed = []
    for name in CHECKS:
        try:
            checks[name]()
        except Exception:
            log.warning("readiness check %s failed", name, exc_info=True)
            failed.append(name)
            session.rollback()  # a failed statement leaves PostgreSQL's transaction unusable for the next check
    return Readiness(tuple(failed))
