"""The province keeps its cities' register-log checkpoints (the ``register.checkpoint`` messages a city's outbox
pushes to its ``province`` subscriber, app/registry/checkpoints.py): each as the city signed it, once per
sequence number, with whether it holds together (signed by the certificate it carries, root and total following
from the heads). Whether that certificate is the city's office key is for the verifier who holds the key: a
package the city exports later (app/registry/log_export.py) is checked against it."""
from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import PermissionDenied, ValidationFailed
from app.federation import peers
from app.federation.forward_models import CollectedCheckpoint
from app.registry.checkpoint_log import Checkpoint, body_problems, canonical, load_public_key, signature_ok
from app.security import audit

TOPIC = "register.checkpoint"


def _consistent(cp: Checkpoint) -> bool:
    try:
        return signature_ok(cp, load_public_key(cp.cert.encode())) and not body_problems(cp)
    except (ValueError, KeyError, TypeError):
        return False


def receive(session: Session, peer: peers.Peer, body: dict[str, Any], *, own_level: str) -> dict[str, Any]:
    """Keep a city's checkpoint; the same one again is a duplicate delivery (answered, nothing new), another
    record under a number already kept is refused (422 ``checkpoint_conflict``: a rewritten log)."""
    if own_level != "province" or peer.level != "city":
        raise PermissionDenied("只有省级平台接收市级平台的登记簿检查点", code="peer_not_allowed")
    record = body.get("record")
    if not isinstance(record, dict):
        raise ValidationFailed("缺少检查点记录", code="report_invalid", field="record")
    try:
        cp = Checkpoint.from_record(record)
        seq = cp.seq
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed("检查点记录格式不正确", code="report_invalid", field="record") from exc
    sha = hashlib.sha256(canonical(record)).hexdigest()
    if body.get("sha256") and body["sha256"] != sha:
        raise ValidationFailed("检查点记录与其摘要不符", code="report_invalid", field="sha256")
    kept = session.execute(select(CollectedCheckpoint).where(CollectedCheckpoint.city_code == peer.code,
                                                             CollectedCheckpoint.seq == seq)).scalar_one_or_none()
    if kept is not None:
        if kept.sha256 != sha:
            raise ValidationFailed(f"检查点 #{seq} 已收到内容不同的另一份", code="checkpoint_conflict", field="record")
        return {"accepted": True, "changed": False, "seq": seq}
    row = CollectedCheckpoint(city_code=peer.code, seq=seq, sha256=sha, record=record, consistent=_consistent(cp))
    row.ensure_id()
    session.add(row)
    audit.record(session, actor_id=None, action="federation.checkpoint_collected", object_type="collected_checkpoint",
                 object_id=row.id, after={"from": peer.code, "seq": seq, "sha256": sha, "consistent": row.consistent})
    return {"accepted": True, "changed": True, "seq": seq, "consistent": row.consistent}


def latest_of(session: Session, city_code: str) -> dict[str, Any] | None:
    """The newest checkpoint record kept for ``city_code``."""
    row = session.execute(select(CollectedCheckpoint).where(CollectedCheckpoint.city_code == city_code)
                          .order_by(CollectedCheckpoint.seq.desc()).limit(1)).scalar_one_or_none()
    return None if row is None else dict(row.record)
