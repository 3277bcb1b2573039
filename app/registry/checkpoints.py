"""Making checkpoints: after 登簿 (batched by the ``checkpoint`` job, or ``flask registry checkpoint``) sign
every chain head with the office key, time-stamp it, append it to the log on disk and push it to the province.

The job refuses to sign a database that no longer extends the latest checkpoint (a shortened, rewritten or
truncated chain): signing it would launder the tampering. A TSA that cannot answer never stops a checkpoint:
it is written unstamped and a later run appends its ``timestamp`` line. The TSA calls come before the job
writes anything, so they are made with no transaction open (app/integrations/answers.py) and hold up no 登簿.
"""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict
from app.integrations.client import ServiceUnavailable
from app.integrations.models import OutboxMessage
from app.registry.checkpoint_log import Checkpoint, CheckpointLog, canonical, heads_root, sign_body
from app.registry.models import RealtyUnit, RegisterEntry
from app.security.models import AuditHead

log = logging.getLogger(__name__)
TOPIC = "register.checkpoint"
STAMP_BATCH = 20

def checkpoint_log() -> CheckpointLog:
    """This app's checkpoint log (``CHECKPOINT_DIR``: ``app.extensions["checkpoint_dir"]``, set by
    ``app.registry.init_app``)."""
    directory: Path = current_app.extensions["checkpoint_dir"]
    return CheckpointLog(directory)


def register_heads(session: Session) -> list[list[Any]]:
    """``[unit_code, count, head_hash]`` of every unit with entries, read in one statement (one snapshot)."""
    last = (select(RegisterEntry.unit_id, func.max(RegisterEntry.seq).label("seq"))
            .group_by(RegisterEntry.unit_id).subquery())
    rows = session.execute(
        select(RealtyUnit.unit_code, RegisterEntry.seq, RegisterEntry.hash)
        .join(last, (last.c.unit_id == RegisterEntry.unit_id) & (last.c.seq == RegisterEntry.seq))
        .join(RealtyUnit, RealtyUnit.id == RegisterEntry.unit_id)
        .order_by(RealtyUnit.unit_code).execution_options(all_tenants=True)).all()
    return [[code, seq, head] for code, seq, head in rows]


def audit_head(session: Session) -> dict[str, Any]:
    head = session.get(AuditHead, 1)
    return {"seq": head.seq, "hash": head.hash} if head is not None else {"seq": 0, "hash": "0" * 64}


@dataclass(frozen=True)
class CheckpointResult:
    created: Checkpoint | None
    stamped: list[int]

    def __str__(self) -> str:
        made = "登记簿无新记载，未签发检查点"
        if self.created is not None:
            register = self.created.body["register"]
            made = (f"已签发检查点 #{self.created.seq}（{register['units']} 个单元，{register['entries']} 条记载，"
                    f"{'已加时间戳' if self.created.token else '时间戳待补'}）")
        return made + (f"；补加时间戳：{'、'.join(f'#{s}' for s in self.stamped)}" if self.stamped else "")


def office_keys() -> tuple[bytes, bytes]:
    """The registration authority's signing key and certificate: the files of the certificate PKI."""
    from app.registry.signing import configured_paths, ensure_dev_keys

    paths = configured_paths()
    ensure_dev_keys(paths)
    return paths.key.read_bytes(), paths.cert.read_bytes()


def make_checkpoint(session: Session, book: CheckpointLog | None = None) -> CheckpointResult:
    """Sign the current heads if anything changed since the latest checkpoint; stamp the unstamped ones."""
    from app.registry.verify import anchored_breaks

    book = book or checkpoint_log()
    latest = book.latest()
    broken = anchored_breaks(session, latest)
    if broken:
        raise Conflict("登记簿或审计日志与最近的检查点不符，拒绝签发新检查点：" + "；".join(broken[:5]),
                       code="checkpoint_refused")
    heads, audit = register_heads(session), audit_head(session)
    late = _stamp_pending(session, book)  # every TSA call before this job writes anything (answers.py)
    created = None
    if latest is None or latest.body["register"]["heads"] != heads or latest.body["audit"] != audit:
        body = {"version": 1, "seq": (latest.seq + 1) if latest else 1, "at": utcnow().isoformat(),
                "prev": latest.digest.hex() if latest else None,
                "register": {"units": len(heads), "entries": sum(h[1] for h in heads), "root": heads_root(heads),
                             "heads": heads},
                "audit": audit}
        created = sign_body(body, *office_keys())
        token = _stamp(session, created)
        if token is not None:
            created = Checkpoint(created.body, created.signature, created.cert, token)
    for seq, token in late:
        record = {"type": "timestamp", "seq": seq, "token": token}
        book.append(record)
        _push(session, f"checkpoint-timestamp:{seq}", record)
    if created is not None:
        book.append(created.record())
        _push(session, f"checkpoint:{created.seq}", created.record())
    return CheckpointResult(created, [seq for seq, _token in late])


def _stamp_pending(session: Session, book: CheckpointLog) -> list[tuple[int, str]]:
    """Tokens for the unstamped checkpoints (oldest first), asked before anything is written."""
    tokens = []
    for cp in [c for c in book.checkpoints() if c.token is None][:STAMP_BATCH]:
        token = _stamp(session, cp)
        if token is None:
            break
        tokens.append((cp.seq, token))
    return tokens


def _stamp(session: Session, cp: Checkpoint) -> str | None:
    from app.integrations.tsa import request_token

    try:
        return base64.b64encode(request_token(session, cp.digest)).decode()
    except ServiceUnavailable as exc:
        log.warning("checkpoint #%s not time-stamped yet: %s", cp.seq, exc.message)
        return None


def _push(session: Session, key: str, record: dict[str, Any]) -> None:
    """The guide's one-way export of the register log (一.四): the province keeps every signed checkpoint."""
    session.add(OutboxMessage(topic=TOPIC, idempotency_key=key, ordering_key=TOPIC,  # the province gets them in order
                              payload={"record": record, "sha256": _sha(record)}))


def _sha(record: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(canonical(record)).hexdigest()
