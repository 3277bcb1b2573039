"""Log retention: operation (audit), interface-call and exception logs are kept at least one year
(``LOG_RETENTION_DAYS``, never below ``MIN_RETENTION_DAYS``); the purge job deletes only what is older than
that, and never anything younger. Delivered outbox messages go sooner (``OUTBOX_RETENTION_DAYS``, the
``outbox_prune`` job: each push is in the interface-call log); any sent one still older is purged here too.

The audit log is hash-chained, so only a *prefix* of it can go: the entries from the oldest up to the last
one before the first entry still within the retention period (an old entry that comes after a young one in
the chain — clocks are not perfectly monotonic — is kept). The last purged entry's seq and hash become the
chain's anchor (``AuditHead.anchor_*``), from which ``verify_chain`` checks every kept link. The purge is
itself an audit entry naming the anchor, so the cut is on the record.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db import affected_rows, utcnow
from app.errors import ValidationFailed
from app.integrations.models import InterfaceCallLog, OutboxMessage
from app.security import audit
from app.security.models import AuditEntry, AuditHead
from app.supervision.models import ExceptionLog
from app.vocabulary import OutboxStatus

MIN_RETENTION_DAYS = 365


@dataclass
class PurgeReport:
    cutoff: datetime
    deleted: dict[str, int] = field(default_factory=dict)
    anchor_seq: int = 0

    def __str__(self) -> str:
        parts = "，".join(f"{k} {v} 条" for k, v in self.deleted.items())
        return f"已清理 {self.cutoff:%Y-%m-%d %H:%M} (UTC) 之前的日志：{parts}；审计链锚点 #{self.anchor_seq}"


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    if days < MIN_RETENTION_DAYS:
        raise ValidationFailed(f"日志保留期不得少于 {MIN_RETENTION_DAYS} 天",
                               errors={"days": [f"至少 {MIN_RETENTION_DAYS} 天"]})
    return (now or utcnow()) - timedelta(days=days)


def _purge_audit_prefix(session: Session, cutoff: datetime) -> tuple[int, int]:
    """Delete the chain's prefix older than ``cutoff``; move the anchor. Returns (deleted, anchor seq)."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        return 0, 0
    first_young = session.execute(select(func.min(AuditEntry.seq)).where(AuditEntry.at >= cutoff)).scalar()
    limit = (first_young - 1) if first_young is not None else head.seq
    last = session.execute(select(AuditEntry).where(AuditEntry.seq <= limit)
                           .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    if last is None:
        return 0, head.anchor_seq
    deleted = affected_rows(session.execute(delete(AuditEntry).where(AuditEntry.seq <= last.seq)))
    head.anchor_seq, head.anchor_hash = last.seq, last.hash
    return deleted, last.seq


def purge_logs(session: Session, days: int, now: datetime | None = None) -> PurgeReport:
    """Delete log rows older than ``days`` (at least a year) in the caller's transaction."""
    report = PurgeReport(cutoff=retention_cutoff(days, now))
    cutoff = report.cutoff
    report.deleted["接口调用日志"] = affected_rows(session.execute(
        delete(InterfaceCallLog).where(InterfaceCallLog.at < cutoff)))
    report.deleted["异常日志"] = affected_rows(session.execute(delete(ExceptionLog).where(ExceptionLog.at < cutoff)))
    report.deleted["已送达消息"] = affected_rows(session.execute(delete(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.created_at < cutoff)))
    report.deleted["操作日志"], report.anchor_seq = _purge_audit_prefix(session, cutoff)
    if any(report.deleted.values()):
        audit.record(session, actor_id=None, action="log.purge", object_type="log", object_id=None,
                     after={"cutoff": cutoff.isoformat(), "retention_days": days, "deleted": report.deleted,
                            "audit_anchor_seq": report.anchor_seq})
    return report
