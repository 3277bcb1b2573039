"""Intranet side of the one-way export: import the packages strictly in sequence into the intranet's own
database, checking each with the extranet registration authority's public key alone, and prove the copy.

Nothing here opens a connection to the extranet: the packages arrive as files (the gate's side of the
directory) and the only trust is the public key configured out of band (``FERRY_EXTRANET_CERT_FILE``). A
package is refused — and nothing after it is imported — when its signature or its register log does not verify
(tampered), when its sequence number is not the next one (a gap or reordering), when it was already imported
(a replay), or when it does not continue the previous package (its ``prev`` digest and its starting checkpoint).
Each package is imported in one transaction: entries appended to the copy, rights replayed, its checkpoint
kept for ``verify``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import DomainError
from app.ferry.models import FerryCopyEntry, FerryCopyRight, FerryImport
from app.ferry.package import EXPORT_FORMAT, export_signature_ok, read_document, sha256
from app.registry.book import GENESIS, entry_digest
from app.registry.checkpoint_log import Checkpoint, body_problems, canonical, heads_root, load_public_key, signature_ok
from app.registry.log_export import verify_package
from app.security import audit

PACKAGE_FILE = re.compile(r"^ferry-(\d{8})\.json$")


class PackageRefused(DomainError):
    """A package that must not be imported; ``code`` says why (package_tampered, package_gap, package_replayed,
    package_out_of_order, package_invalid)."""

    status = 422
    code = "package_invalid"


@dataclass
class ImportReport:
    imported: list[int] = field(default_factory=list)
    refused: PackageRefused | None = None
    refused_file: str | None = None


def packages_in(directory: Path) -> list[tuple[int, Path]]:
    """The package files of a directory by sequence number (temporary and other files ignored)."""
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := PACKAGE_FILE.match(p.name))]
    return sorted(found)


def import_directory(new_session: Callable[[], Session], directory: Path, public_pem: bytes) -> ImportReport:
    """Import every package of ``directory`` after the last imported one, in order, stopping at the first refusal.
    A package already imported with the same bytes is skipped (the gate may leave it); with other bytes it is a
    replay or a forgery and refused."""
    report = ImportReport()
    for seq, path in packages_in(directory):
        try:
            done = import_file(new_session, path, public_pem, skip_same=True)
        except PackageRefused as exc:
            report.refused, report.refused_file = exc, path.name
            break
        if done is not None:
            report.imported.append(seq)
    return report


def import_file(new_session: Callable[[], Session], path: Path, public_pem: bytes,
                skip_same: bool = False) -> int | None:
    """Import one package file; its sequence number, or None when ``skip_same`` and it was already imported."""
    try:
        document, data = read_document(path)
    except ValueError as exc:
        raise PackageRefused(f"{path.name}：{exc}", code="package_invalid") from exc
    with new_session() as session, session.begin():
        return _import(session, document, sha256(data), public_pem, skip_same)


def _import(session: Session, document: dict[str, Any], digest: str, public_pem: bytes, skip_same: bool) -> int | None:
    if document.get("format") != EXPORT_FORMAT or not isinstance(document.get("body"), dict):
        raise PackageRefused("不是不动产登记摆渡包", code="package_invalid")
    if not export_signature_ok(document, public_pem):
        raise PackageRefused("摆渡包签名无效（不是外网登记机构的密钥签署，或内容被改动）", code="package_tampered")
    body = document["body"]
    seq = int(body["seq"])
    last = session.execute(select(FerryImport).order_by(FerryImport.seq.desc()).limit(1)
                           .with_for_update()).scalar_one_or_none()
    last_seq = last.seq if last else 0
    if seq <= last_seq:
        known = session.get(FerryImport, seq)
        if skip_same and known is not None and known.sha256 == digest:
            return None
        raise PackageRefused(f"摆渡包 #{seq} 已导入过，拒绝重放", code="package_replayed")
    if seq != last_seq + 1:
        raise PackageRefused(f"摆渡包 #{seq} 不是下一个（应为 #{last_seq + 1}），缺包或顺序错乱", code="package_gap")
    log = body["log"]
    since = log.get("since")
    if body.get("prev") != (last.sha256 if last else None) or \
            (since is None) != (last is None) or (last is not None and since is not None and canonical(
                Checkpoint.from_record(since).body) != canonical(Checkpoint.from_record(last.checkpoint).body)):
        raise PackageRefused(f"摆渡包 #{seq} 不是接续上一包导出的（前一包摘要或起始检查点不符）",
                             code="package_out_of_order")
    check = verify_package(log, public_pem)
    if not check.ok:
        raise PackageRefused(f"摆渡包 #{seq} 的登记簿日志校验失败：" + "；".join(check.problems[:5]),
                             code="package_tampered")
    _apply(session, log["entries"])
    checkpoint = log["checkpoint"]
    session.add(FerryImport(seq=seq, checkpoint_seq=int(checkpoint["body"]["seq"]), sha256=digest,
                            checkpoint=checkpoint, entries=len(log["entries"])))
    audit.record(session, actor_id=None, action="ferry.package_imported", object_type="ferry_package",
                 object_id=str(seq), after={"checkpoint": checkpoint["body"]["seq"], "entries": len(log["entries"])})
    return seq


def _apply(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append the entries to the copy and replay their changes on the copy's rights, in order."""
    for entry in entries:
        session.add(FerryCopyEntry(unit_code=entry["unit"], seq=entry["seq"], business_no=entry["business_no"],
                                   kind=entry["kind"], recorded_at=entry["at"], change=entry["change"],
                                   prev_hash=entry["prev_hash"], hash=entry["hash"]))
        change = entry.get("change") or {}
        for right_id in change.get("ended") or []:
            right = session.get(FerryCopyRight, right_id)
            if right is not None:
                right.current = False
        created = change.get("created")
        if created:
            session.add(FerryCopyRight(right_id=created["right_id"], unit_code=entry["unit"],
                                       right_type=created["type"], holders=list(created.get("holders") or []),
                                       business_no=entry["business_no"], current=True))
        session.flush()


@dataclass
class CopyCheck:
    problems: list[str] = field(default_factory=list)
    checkpoint_seq: int | None = None
    units: int = 0
    entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.checkpoint_seq is not None


def verify_copy(session: Session, public_pem: bytes) -> CopyCheck:
    """Check the intranet copy against the latest imported checkpoint with the public key alone: the checkpoint's
    signature, every unit's chain recomputed from genesis ending at the signed head, the Merkle root, and the
    copy's current rights equal to what replaying the entries gives."""
    check = CopyCheck()
    last = session.execute(select(FerryImport).order_by(FerryImport.seq.desc()).limit(1)).scalar_one_or_none()
    if last is None:
        check.problems.append("内网副本尚未导入任何摆渡包")
        return check
    checkpoint = Checkpoint.from_record(last.checkpoint)
    check.checkpoint_seq = checkpoint.seq
    if not signature_ok(checkpoint, load_public_key(public_pem)):
        check.problems.append(f"检查点 #{checkpoint.seq} 的签名无效")
    check.problems += body_problems(checkpoint)
    heads: list[list[Any]] = []
    expected_rights: dict[str, tuple[str, str, list[str | None]]] = {}
    by_unit: dict[str, list[FerryCopyEntry]] = {}
    rows = session.execute(select(FerryCopyEntry).order_by(FerryCopyEntry.unit_code, FerryCopyEntry.seq)).scalars()
    for entry in rows:
        by_unit.setdefault(entry.unit_code, []).append(entry)
    for code, entries in by_unit.items():
        seq, prev = 0, GENESIS
        for entry in entries:
            digest = entry_digest(entry.prev_hash, code, entry.seq, entry.business_no, entry.kind, entry.recorded_at,
                                  entry.change)
            if entry.seq != seq + 1 or entry.prev_hash != prev or entry.hash != digest:
                check.problems.append(f"单元 {code} 第 {entry.seq} 条：副本记载与哈希链不符")
                break
            seq, prev = entry.seq, entry.hash
            for right_id in (entry.change or {}).get("ended") or []:
                expected_rights.pop(right_id, None)
            created = (entry.change or {}).get("created")
            if created:
                expected_rights[created["right_id"]] = (code, created["type"], list(created.get("holders") or []))
        heads.append([code, seq, prev])
    signed = checkpoint.body["register"]["heads"]
    if sorted(heads) != sorted(signed) or heads_root(heads) != checkpoint.body["register"]["root"]:
        for code, (count, head) in checkpoint.heads.items():
            mine = next(((s, h) for c, s, h in heads if c == code), None)
            if mine != (count, head):
                check.problems.append(f"单元 {code}：副本链头与检查点 #{checkpoint.seq} 签署的不符")
        for code, _s, _h in heads:
            if code not in checkpoint.heads:
                check.problems.append(f"单元 {code}：不在检查点 #{checkpoint.seq} 中")
    actual = {r.right_id: (r.unit_code, r.right_type, list(r.holders or []))
              for r in session.execute(select(FerryCopyRight).where(FerryCopyRight.current.is_(True))).scalars()}
    for right_id in sorted(set(actual) | set(expected_rights)):
        if actual.get(right_id) != expected_rights.get(right_id):
            check.problems.append(f"权利 {right_id}：副本的现势权利与记载重放的结果不符")
    check.units, check.entries = len(heads), sum(h[1] for h in heads)
    return check


def copy_summary(session: Session) -> dict[str, int]:
    """Counts for the command line: packages imported, units, entries, current rights of the copy."""
    return {"packages": session.scalar(select(func.count()).select_from(FerryImport)) or 0,
            "entries": session.scalar(select(func.count()).select_from(FerryCopyEntry)) or 0,
            "rights": session.scalar(select(func.count()).select_from(FerryCopyRight)
                                     .where(FerryCopyRight.current.is_(True))) or 0}
