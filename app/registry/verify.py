"""Checking the register book's hash chains (条例 10: the register may only be appended to).

PostgreSQL refuses UPDATE/DELETE on ``register_entry`` with a trigger, but a superuser can disable it and
SQLite has no such guard, so the chain is the evidence that survives: each entry's hash covers its content
and the previous entry's hash. Recomputing every unit's chain from the start shows an edited entry (hash no
longer matches its content), a removed or reordered one (gap in ``seq``, or ``prev_hash`` that is not the
previous entry's hash), and an edited hash (the next entry's ``prev_hash`` no longer matches).

A chain only proves itself, though: whoever can write the table can rewrite an entry and recompute every hash
after it, delete a unit's whole chain or cut its last entries. So the book is also checked against the latest
signed checkpoint (app/registry/checkpoints.py, kept outside the database): every unit it names must still
have at least its entry count, and the entry at that count must carry the head hash it signed. And the
current-state tables are replayed from the entries (app/registry/replay.py), so an edit of ``right_holder``
that no entry records is found too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import one_snapshot
from app.registry.book import GENESIS, entry_digest
from app.registry.checkpoint_log import Checkpoint
from app.registry.models import RealtyUnit, RegisterEntry
from app.registry.replay import state_breaks
from app.security.audit import ChainBreak as AuditBreak
from app.security.audit import chain_status, verify_chain
from app.security.models import AuditEntry, AuditHead


@dataclass(frozen=True)
class ChainBreak:
    """One place where a unit's chain does not hold; ``reason`` is for the registrar, in Chinese."""

    unit_code: str
    seq: int
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """What was checked, so "passed" can say how much it covers."""

    units: int
    entries: int
    breaks: list[ChainBreak]
    checkpoint: Checkpoint | None = None

    @property
    def unanchored(self) -> int:
        """Entries recorded after the checkpoint: covered by the chain only, until the next one."""
        return self.entries - (self.checkpoint.body["register"]["entries"] if self.checkpoint else 0)


def _check_unit(unit_code: str, entries: list[RegisterEntry]) -> list[ChainBreak]:
    breaks: list[ChainBreak] = []
    prev_hash = GENESIS
    for expected_seq, entry in enumerate(entries, start=1):
        if entry.seq != expected_seq:
            breaks.append(ChainBreak(unit_code, entry.seq, f"序号不连续：应为 {expected_seq}，实为 {entry.seq}"))
        if entry.prev_hash != prev_hash:
            breaks.append(ChainBreak(unit_code, entry.seq, "前一条记载的哈希不符（记载被删除、插入或篡改）"))
        digest = entry_digest(entry.prev_hash, unit_code, entry.seq, entry.business_no, entry.kind,
                              entry.recorded_at.isoformat(), entry.change)
        if entry.hash != digest:
            breaks.append(ChainBreak(unit_code, entry.seq, "记载内容与哈希不符（记载被篡改）"))
        prev_hash = entry.hash
    return breaks


def _check_anchor(unit_code: str, entries: list[RegisterEntry], count: int, head: str,
                  checkpoint_seq: int) -> list[ChainBreak]:
    if len(entries) < count:
        return [ChainBreak(unit_code, count, f"检查点 #{checkpoint_seq} 记载 {count} 条，登记簿仅存 {len(entries)} 条"
                                             "（记载被删除或截断）")]
    if entries[count - 1].seq != count or entries[count - 1].hash != head:
        return [ChainBreak(unit_code, count, f"与检查点 #{checkpoint_seq} 签署的链头不符（记载被改写后重算了哈希链）")]
    return []


def _entries_by_unit(session: Session) -> tuple[list[Any], dict[str, list[RegisterEntry]], int]:
    units = session.execute(select(RealtyUnit.id, RealtyUnit.unit_code).order_by(RealtyUnit.unit_code)
                            .execution_options(all_tenants=True)).all()
    entries = session.execute(select(RegisterEntry).order_by(RegisterEntry.unit_id, RegisterEntry.seq)
                              .execution_options(all_tenants=True)).scalars().all()
    by_unit: dict[str, list[RegisterEntry]] = {}
    for entry in entries:
        by_unit.setdefault(entry.unit_id, []).append(entry)
    return list(units), by_unit, len(entries)


def _chain_breaks(units: list[Any], by_unit: dict[str, list[RegisterEntry]],
                  checkpoint: Checkpoint | None) -> list[ChainBreak]:
    breaks: list[ChainBreak] = []
    for unit_id, unit_code in units:
        breaks += _check_unit(unit_code, by_unit.get(unit_id, []))
    if checkpoint is not None:
        present = {code: by_unit.get(unit_id, []) for unit_id, code in units}
        for unit_code, (count, head) in sorted(checkpoint.heads.items()):
            breaks += _check_anchor(unit_code, present.get(unit_code, []), count, head, checkpoint.seq)
    return breaks


def verify_register_report(session: Session, checkpoint: Checkpoint | None = None) -> VerifyReport:
    """Recompute every unit's chain, in ``seq`` order, across all tenants; compare it with ``checkpoint``;
    replay the entries against the current rights and holders. Read in one snapshot when ``session`` is fresh
    (``db.one_snapshot``): a 登簿 committing meanwhile is not a break."""
    one_snapshot(session)
    units, by_unit, total = _entries_by_unit(session)
    breaks = _chain_breaks(units, by_unit, checkpoint) + state_breaks(session, units, by_unit)
    return VerifyReport(units=len(units), entries=total, breaks=breaks, checkpoint=checkpoint)


def audit_anchor_breaks(session: Session, checkpoint: Checkpoint | None) -> list[str]:
    """The audit chain against the checkpoint's audit head: the entry it signed must still be there with
    that hash (or be the retention anchor), so a rewritten chain and head are found."""
    if checkpoint is None or not checkpoint.body["audit"]["seq"]:
        return []
    seq, signed = int(checkpoint.body["audit"]["seq"]), checkpoint.body["audit"]["hash"]
    head = session.get(AuditHead, 1)
    if head is None or head.seq < seq:
        kept = head.seq if head else 0
        return [f"审计日志止于第 {kept} 条，检查点 #{checkpoint.seq} 已签署至第 {seq} 条（日志被截断）"]
    if head.anchor_seq > seq:
        return []  # retention purged it; later checkpoints cover what is kept
    found = head.anchor_hash if head.anchor_seq == seq else session.execute(
        select(AuditEntry.hash).where(AuditEntry.seq == seq)).scalar_one_or_none()
    if found != signed:
        return [f"审计日志第 {seq} 条与检查点 #{checkpoint.seq} 签署的哈希不符（审计链被改写）"]
    return []


def audit_status(session: Session, checkpoint: Checkpoint | None) -> dict[str, Any]:
    """``chain_status`` of the audit log, with every departure from the checkpoint's audit head as a break
    (what ``logs verify-audit`` and the operators' audit-chain page show)."""
    status = chain_status(session)
    anchored = audit_anchor_breaks(session, checkpoint)
    if checkpoint is not None and anchored:
        status["breaks"] = [*status["breaks"], *(AuditBreak(int(checkpoint.body["audit"]["seq"]), reason)
                                                 for reason in anchored)]
        status["ok"] = False
    status["checkpoint_seq"] = checkpoint.seq if checkpoint is not None else None
    return status


def anchored_breaks(session: Session, checkpoint: Checkpoint | None) -> list[str]:
    """Every chain break of the book and the audit log, and every departure from ``checkpoint``: what must
    be empty before a new checkpoint may be signed (read in one snapshot, as ``verify_register_report``)."""
    one_snapshot(session)
    units, by_unit, _total = _entries_by_unit(session)
    found = [f"单元 {b.unit_code} 第 {b.seq} 条：{b.reason}" for b in _chain_breaks(units, by_unit, checkpoint)]
    found += [f"审计日志第 {b.seq} 条：{b.reason}" for b in verify_chain(session)]
    return found + audit_anchor_breaks(session, checkpoint)


def verify_register(session: Session, checkpoint: Checkpoint | None = None) -> list[ChainBreak]:
    """Every break in every unit's chain; empty when the register book is intact."""
    return verify_register_report(session, checkpoint).breaks
