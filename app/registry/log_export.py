"""The register log's one-way export (guide 一.四): sequence-numbered packages a receiving zone checks with
the registration authority's public key alone.

A package is the latest signed checkpoint, optionally the earlier checkpoint it continues from (``since``),
and every entry between the two, per unit in ``seq`` order. The entries need no signature of their own: each
chain recomputed from the earlier head (or genesis) must end exactly at the head the checkpoint signed, and
the heads must give the signed Merkle root. A checkpoint's RFC 3161 token, when present, is checked against
the SHA-256 of its body.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.registry.book import GENESIS, entry_digest
from app.registry.checkpoint_log import Checkpoint, CheckpointLog, body_problems, load_public_key, signature_ok
from app.registry.models import RealtyUnit, RegisterEntry

if TYPE_CHECKING:
    from asn1crypto import x509 as asn1_x509

FORMAT = "bdcdj-register-log/1"


def export_package(session: Session, book: CheckpointLog, since: int | None = None) -> dict[str, Any]:
    """The package up to the latest checkpoint; with ``since``, only the entries after that checkpoint."""
    latest = book.latest()
    if latest is None:
        raise Conflict("尚无检查点，无法导出登记簿日志（先运行 flask registry checkpoint）", code="no_checkpoint")
    base = book.get(since) if since else None
    if since and base is None:
        raise Conflict(f"检查点 #{since} 不存在", code="no_checkpoint")
    after = base.heads if base else {}
    heads = latest.heads
    rows = session.execute(select(RealtyUnit.unit_code, RegisterEntry).join(RealtyUnit,
                                                                            RealtyUnit.id == RegisterEntry.unit_id)
                           .order_by(RealtyUnit.unit_code, RegisterEntry.seq)
                           .execution_options(all_tenants=True)).all()
    entries = [{"unit": code, "seq": e.seq, "business_no": e.business_no, "kind": e.kind,
                "at": e.recorded_at.isoformat(), "change": e.change, "prev_hash": e.prev_hash, "hash": e.hash}
               for code, e in rows if after.get(code, (0, ""))[0] < e.seq <= heads.get(code, (0, ""))[0]]
    return {"format": FORMAT, "package": latest.seq, "since": base.record() if base else None,
            "checkpoint": latest.record(), "entries": entries}


@dataclass
class PackageCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_signed(label: str, cp: Checkpoint, public_pem: bytes, tsa_roots: list[asn1_x509.Certificate],
                  check: PackageCheck) -> None:
    from app.integrations.tsa import check_token

    if not signature_ok(cp, load_public_key(public_pem)):
        check.problems.append(f"{label}的签名无效（不是该登记机构的密钥签署，或内容被改动）")
        return
    check.problems += [f"{label}：{p}" for p in body_problems(cp)]
    if cp.token is None:
        check.notes.append(f"{label} 尚无时间戳（时间戳服务暂不可用时签发，稍后补加）")
        return
    token = check_token(base64.b64decode(cp.token), cp.digest, tsa_roots)
    if not token.intact:
        check.problems.append(f"{label}的时间戳无效或与内容不符")
    else:
        trust = "（时间戳机构证书已验证）" if token.trusted else "（未提供时间戳机构根证书，仅校验了签名）"
        check.notes.append(f"{label} 时间戳：{token.stamped_at.isoformat() if token.stamped_at else '?'}{trust}")


def verify_package(package: dict[str, Any], public_pem: bytes, tsa_root_pem: bytes | None = None) -> PackageCheck:
    check = PackageCheck()
    if package.get("format") != FORMAT:
        return PackageCheck(problems=["不是登记簿日志包"])
    from asn1crypto import x509 as asn1_x509  # on use: importing this module loads no signature stack

    roots = [asn1_x509.Certificate.load(_der(tsa_root_pem))] if tsa_root_pem else []
    latest = Checkpoint.from_record(package["checkpoint"])
    _check_signed(f"检查点 #{latest.seq}", latest, public_pem, roots, check)
    base = Checkpoint.from_record(package["since"]) if package.get("since") else None
    if base is not None:
        _check_signed(f"起始检查点 #{base.seq}", base, public_pem, roots, check)
    start = base.heads if base else {}
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for entry in package.get("entries", []):
        by_unit.setdefault(entry["unit"], []).append(entry)
    for code in sorted(set(latest.heads) | set(start) | set(by_unit)):
        check.problems += _check_chain(code, start.get(code, (0, GENESIS)), latest.heads.get(code),
                                       by_unit.get(code, []))
    return check


def _check_chain(code: str, start: tuple[int, str], end: tuple[int, str] | None,
                 entries: list[dict[str, Any]]) -> list[str]:
    if end is None:
        return [f"单元 {code}：不在签署的检查点中"]
    seq, prev = start
    for entry in entries:
        digest = entry_digest(entry["prev_hash"], code, entry["seq"], entry["business_no"], entry["kind"],
                              entry["at"], entry["change"])
        if entry["seq"] != seq + 1 or entry["prev_hash"] != prev or entry["hash"] != digest:
            return [f"单元 {code} 第 {entry['seq']} 条：记载与哈希链不符"]
        seq, prev = entry["seq"], entry["hash"]
    if (seq, prev) != end:
        return [f"单元 {code}：记载止于第 {seq} 条，与检查点签署的链头（第 {end[0]} 条）不符"]
    return []


def _der(pem_or_der: bytes) -> bytes:
    if b"-----BEGIN" in pem_or_der:
        body = b"".join(line for line in pem_or_der.splitlines() if line and not line.startswith(b"-----"))
        return base64.b64decode(body)
    return pem_or_der
