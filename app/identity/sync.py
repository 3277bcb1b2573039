"""User sync from the integrated government platform (政务一体化平台的统一用户目录).

The platform hands over its staff directory (JSON Lines or CSV file for ``flask users sync``, a JSON list
for ``POST /api/v1/admin/users/sync``). Each record is keyed by the platform's ``external_id``; a run
creates the accounts it does not know, updates the ones whose details changed, disables those marked
``enabled: false`` (and, with ``full``, every synced account missing from the directory), and leaves the
rest alone — so a second run of the same directory changes nothing. All or nothing: any bad record is
reported with its line and a Chinese reason and nothing is written.

Synced accounts get an unknown random password: they sign in once an operator resets it (or, later,
through the platform's single sign-on).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.identity.actor import Actor
from app.identity.models import OrgUnit, Role, Tenant, User, UserRole
from app.identity.service import create_user, revoke_sessions
from app.identity.signin import random_password
from app.import_files import ImportProblem, parse_jsonl
from app.security import audit

FIELDS = ("external_id", "username", "real_name", "phone", "tenant", "section", "roles", "enabled")
_TRUE = {"1", "true", "yes", "是", "启用", "y"}
_FALSE = {"0", "false", "no", "否", "停用", "n"}


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    disabled: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "disabled": self.disabled,
                "unchanged": self.unchanged}

    def summary(self) -> str:
        return (f"新增 {self.created} 人，更新 {self.updated} 人，停用 {self.disabled} 人，"
                f"未变化 {self.unchanged} 人")


def read_directory(path: Path) -> tuple[list[dict[str, Any]], list[ImportProblem]]:
    """Records (each with its file line as ``_line``) from a .jsonl or .csv file (UTF-8)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [ImportProblem(0, "文件不是 UTF-8 编码，请另存为 UTF-8")]
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("external_id", "username") if c not in (reader.fieldnames or [])]
        if missing:
            return [], [ImportProblem(1, f"表头缺少列：{'、'.join(missing)}")]
        return [{**{k: (v or "").strip() for k, v in row.items() if k}, "_line": reader.line_num}
                for row in reader], []
    if suffix not in (".jsonl", ".ndjson", ".json"):
        return [], [ImportProblem(0, "无法识别的文件格式：请使用 .jsonl 或 .csv")]
    return parse_jsonl(text, item="一名人员")


@dataclass(frozen=True)
class _Wanted:
    line: int
    external_id: str
    username: str
    real_name: str | None
    phone: str | None
    tenant_id: str | None
    org_unit_id: str | None
    roles: tuple[str, ...]
    enabled: bool


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return "" if value is None else str(value).strip()


def _check(session: Session, records: list[dict[str, Any]]) -> tuple[list[_Wanted], list[ImportProblem]]:
    roles = set(session.execute(select(Role.code)).scalars())
    tenants = {t.code: t for t in session.execute(select(Tenant)).scalars()}
    org_units = {o.code: o for o in session.execute(select(OrgUnit).where(OrgUnit.kind == "section")).scalars()}
    names = sorted({_text(r, "username") for r in records} - {""})
    by_username: dict[str, str | None] = {}
    for chunk in range(0, len(names), 500):
        rows = session.execute(select(User.username, User.external_id)
                               .where(User.username.in_(names[chunk:chunk + 500]))).all()
        by_username.update({username: external_id for username, external_id in rows})
    wanted, problems, seen_ids, seen_names = [], [], set(), set()
    for record in records:
        line, reasons = int(record.get("_line") or 0), []
        ext, username = _text(record, "external_id"), _text(record, "username")
        if not ext or len(ext) > 64:
            reasons.append("缺少人员标识 external_id（不超过 64 字符）")
        elif ext in seen_ids:
            reasons.append(f"人员标识 {ext} 在文件中重复")
        if not username or len(username) > 64:
            reasons.append("缺少用户名 username（不超过 64 字符）")
        elif username in seen_names:
            reasons.append(f"用户名 {username} 在文件中重复")
        elif username in by_username and by_username[username] != ext:
            reasons.append(f"用户名 {username} 已被本平台其他账户使用")
        raw_roles = record.get("roles")
        role_list = [r.strip() for r in (raw_roles.replace("|", ";").split(";") if isinstance(raw_roles, str)
                                         else raw_roles or []) if str(r).strip()]
        if not role_list:
            reasons.append("缺少角色 roles")
        elif unknown := [r for r in role_list if r not in roles]:
            reasons.append(f"未知角色：{'、'.join(unknown)}")
        tenant = _text(record, "tenant") or None
        if tenant and tenant not in tenants:
            reasons.append(f"未知辖区：{tenant}")
        section = _text(record, "section") or None
        node = org_units.get(section) if section else None
        if section and node is None:
            reasons.append(f"未知科室：{section}")
        elif node is not None and node.tenant_id != tenant:
            reasons.append(f"科室 {section} 不属于辖区 {tenant or '（市级）'}")
        enabled, raw_enabled = True, record.get("enabled", True)
        if isinstance(raw_enabled, bool):
            enabled = raw_enabled
        elif str(raw_enabled).strip().lower() in _FALSE:
            enabled = False
        elif str(raw_enabled).strip().lower() not in _TRUE | {""}:
            reasons.append(f"enabled 应为 true 或 false，而不是 {raw_enabled}")
        seen_ids.add(ext)
        seen_names.add(username)
        if reasons:
            problems.append(ImportProblem(line, "；".join(reasons)))
            continue
        wanted.append(_Wanted(line, ext, username, _text(record, "real_name") or None, _text(record, "phone") or None,
                              tenant, node.id if node else None, tuple(sorted(set(role_list))), enabled))
    return wanted, problems


def _differences(user: User, want: _Wanted) -> dict[str, Any]:
    current = {"username": user.username, "real_name": user.real_name, "phone": user.phone, "tenant": user.tenant_id,
               "org_unit": user.org_unit_id, "roles": tuple(user.role_codes), "enabled": user.is_active}
    target = {"username": want.username, "real_name": want.real_name, "phone": want.phone, "tenant": want.tenant_id,
              "org_unit": want.org_unit_id, "roles": want.roles, "enabled": want.enabled}
    return {k: target[k] for k in target if current[k] != target[k]}


def sync_users(session: Session, actor: Actor, records: list[dict[str, Any]], *, full: bool = False,
               problems: list[ImportProblem] | None = None) -> SyncReport:
    """Apply the directory; on any problem write nothing and return the report listing every bad record."""
    actor.require("user:sync")
    report = SyncReport(problems=list(problems or []))
    wanted, found = _check(session, records)
    report.problems.extend(found)
    if not records and not report.problems:
        report.problems.append(ImportProblem(0, "没有任何人员记录"))
    if not report.ok:
        return report
    existing = {u.external_id: u for u in session.execute(select(User).where(User.external_id.is_not(None))).scalars()}
    for want in wanted:
        user = existing.pop(want.external_id, None)
        if user is None:
            user = create_user(session, username=want.username, password=random_password(), roles=list(want.roles),
                               kind="staff", tenant_id=want.tenant_id, real_name=want.real_name, phone=want.phone,
                               actor_id=actor.user_id)
            user.external_id, user.org_unit_id, user.is_active = want.external_id, want.org_unit_id, want.enabled
            report.created += 1
            continue
        changes = _differences(user, want)
        if not changes:
            report.unchanged += 1
            continue
        user.username, user.real_name, user.phone = want.username, want.real_name, want.phone
        user.tenant_id, user.org_unit_id, user.is_active = want.tenant_id, want.org_unit_id, want.enabled
        if not want.enabled:
            revoke_sessions(user)
        if "roles" in changes:
            user.roles = [UserRole(role_code=r) for r in want.roles]
        if changes.keys() == {"enabled"} and not want.enabled:
            report.disabled += 1
        else:
            report.updated += 1
        audit.record(session, actor_id=actor.user_id, action="user.sync_update", object_type="user", object_id=user.id,
                     tenant_id=want.tenant_id, after={"changed": sorted(changes)})  # names of fields, never PII
    if full:
        for user in existing.values():
            if user.is_active:
                user.is_active = False
                revoke_sessions(user)
                report.disabled += 1
                audit.record(session, actor_id=actor.user_id, action="user.disable", object_type="user",
                             object_id=user.id, tenant_id=user.tenant_id, after={"reason": "不在政务平台目录中"})
    audit.record(session, actor_id=actor.user_id, action="user.sync", object_type="user_directory", object_id=None,
                 after=report.counts())
    return report
