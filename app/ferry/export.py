"""Extranet side of the one-way export (单向光闸): after 登簿, a signed, sequence-numbered package of the
register log since the previous package is written to the outbox directory (``FERRY_EXPORT_DIR``), which the
gate carries to the intranet.

Run by the ``ferry_export`` job (app/jobs.py) right after a checkpoint of the new entries, one package per run
(a package ends at a checkpoint, so 登簿s committed within one run's interval share it). The package is made in
one transaction and first written under ``.staging/``; only after the row committed is it linked to its final
name, and never rewritten (app/ferry/package.py ``write_new``). A run that died between commit and link is
finished by the next one from the staged file, so the directory never holds a package the database does not
know, and a sequence number never names two different files.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.ferry.models import FerryPackage
from app.ferry.package import file_bytes, package_name, sha256, sign_export, write_new
from app.registry.checkpoint_log import CheckpointLog
from app.registry.log_export import export_package
from app.security import audit

log = logging.getLogger(__name__)
STAGING = ".staging"


@dataclass(frozen=True)
class Exported:
    seq: int
    checkpoint_seq: int
    entries: int
    business_nos: list[str]
    path: Path

    def __str__(self) -> str:
        return (f"已写出摆渡包 #{self.seq}（检查点 #{self.checkpoint_seq}，{self.entries} 条记载，"
                f"业务 {len(self.business_nos)} 件）→ {self.path}")


def results_of(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 登簿 results a package carries, one per business number: what was recorded where, and the right it
    created (type and id; holders by blind index only, as in the book)."""
    by_no: dict[str, dict[str, Any]] = {}
    for entry in entries:
        result = by_no.setdefault(entry["business_no"], {"business_no": entry["business_no"], "kind": entry["kind"],
                                                         "recorded_at": entry["at"], "units": []})
        created = (entry.get("change") or {}).get("created") or {}
        result["units"].append({"unit_code": entry["unit"], "seq": entry["seq"],
                                "right_type": created.get("type"), "right_id": created.get("right_id")})
    return list(by_no.values())


def export_after_checkpoint(session: Session, app: Any) -> Exported | None:
    """What the ``ferry_export`` job runs: sign a checkpoint of the 登簿s since the last one (under the checkpoint
    job's own lease, through the app's job runner, so it never races the checkpoint job), then write the next
    package. None when ``FERRY_EXPORT_DIR`` is not set or nothing new was recorded."""
    from app.integrations.outbox import session_factory_of
    from app.registry.checkpoints import checkpoint_log, make_checkpoint, office_keys

    settings = app.config["SETTINGS"]
    if settings.ferry_export_dir is None:
        return None
    app.extensions["run_job"]("checkpoint", make_checkpoint)  # None: the checkpoint job is running right now
    return export_next(session_factory_of(session), settings.ferry_export_dir, checkpoint_log(),
                       settings.platform_code, office_keys()[0])


def export_next(new_session: Callable[[], Session], directory: Path, book: CheckpointLog, issuer: str,
                key_pem: bytes) -> Exported | None:
    """Publish what an earlier run committed but did not link, then write the package up to the latest
    checkpoint if it is newer than the last package's; None when there is nothing new."""
    publish_pending(new_session, directory)
    with new_session() as session, session.begin():
        last = session.execute(select(FerryPackage).order_by(FerryPackage.seq.desc()).limit(1)).scalar_one_or_none()
        latest = book.latest()
        if latest is None or (last is not None and last.checkpoint_seq >= latest.seq):
            return None
        base = book.get(last.checkpoint_seq) if last else None
        if (base.heads if base is not None else {}) == latest.heads:
            return None  # a checkpoint of the audit log alone (this job's own audit entry among them): no 登簿
        log_package: dict[str, Any] = export_package(session, book, since=last.checkpoint_seq if last else None)
        seq = (last.seq + 1) if last else 1
        body = {"seq": seq, "prev": last.sha256 if last else None, "issuer": issuer,
                "results": results_of(log_package["entries"]), "log": log_package}
        data = file_bytes(sign_export(body, key_pem))
        staged = directory / STAGING / package_name(seq)
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.unlink(missing_ok=True)  # a run that failed before its commit left it: it was never published
        write_new(staged, data)
        business_nos = [r["business_no"] for r in results_of(log_package["entries"])]
        session.add(FerryPackage(seq=seq, checkpoint_seq=latest.seq, file_name=package_name(seq), sha256=sha256(data),
                                 entries=len(log_package["entries"]), business_nos=business_nos, published=False))
        audit.record(session, actor_id=None, action="ferry.package_exported", object_type="ferry_package",
                     object_id=str(seq), after={"checkpoint": latest.seq, "entries": len(log_package["entries"]),
                                                "business_nos": business_nos})
    publish_pending(new_session, directory)
    return Exported(seq, latest.seq, len(log_package["entries"]), business_nos, directory / package_name(seq))


def publish_pending(new_session: Callable[[], Session], directory: Path) -> int:
    """Link the committed, unpublished packages from ``.staging`` to their final names, in sequence."""
    published = 0
    with new_session() as session, session.begin():
        pending = session.execute(select(FerryPackage).where(FerryPackage.published.is_(False))
                                  .order_by(FerryPackage.seq)).scalars().all()
        for package in pending:
            final, staged = directory / package.file_name, directory / STAGING / package.file_name
            if not final.exists():
                if not staged.exists() or sha256(staged.read_bytes()) != package.sha256:
                    raise Conflict(f"摆渡包 #{package.seq} 的暂存文件缺失或不符，无法发布", code="ferry_staging_lost")
                write_new(final, staged.read_bytes())
            elif sha256(final.read_bytes()) != package.sha256:
                raise Conflict(f"导出目录中的 {package.file_name} 与记录不符，拒绝覆盖", code="ferry_package_exists")
            staged.unlink(missing_ok=True)
            package.published = True
            published += 1
    return published
