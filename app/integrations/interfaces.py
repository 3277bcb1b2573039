"""Interface management: the departments and subscribers the platform talks to, seeded by ``flask setup``
with the simulator's address and overridable by settings (``INTEGRATIONS_BASE_URL`` for all of them,
``INTERFACE_<CODE>_URL`` for one); operators see their health and edit them (app/admin/interface_pages.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from app.identity.actor import Actor
from app.integrations.models import Interface, InterfaceCallLog
from app.security import audit


@dataclass(frozen=True)
class InterfaceDefault:
    code: str
    name: str
    topics: tuple[str, ...] = ()
    timeout_ms: int = 3000
    max_retries: int = 1


DEFAULTS = [
    InterfaceDefault("gongan", "公安身份核验"),
    InterfaceDefault("minzheng", "民政婚姻登记"),
    InterfaceDefault("shichang", "市场监管营业执照"),
    InterfaceDefault("jinrong", "金融监管金融许可证"),
    InterfaceDefault("zhujian", "住建网签备案", topics=("registration.result",)),
    InterfaceDefault("shuiwu", "税务征收", topics=("registration.result", "tax.case")),
    InterfaceDefault("fayuan", "法院文书"),
    InterfaceDefault("sifa", "司法公证"),
    InterfaceDefault("weijian", "卫健出生死亡证明"),
    InterfaceDefault("province", "省级不动产登记平台",
                     topics=("case.progress", "registration.result", "register.checkpoint", "certificate.issued",
                             "certificate.status")),
    # At a province: the national platform, sent the reports of applications filed there (app/federation/reports.py;
    # called signed when the national platform is a peer).
    InterfaceDefault("national", "全国一窗办事平台", topics=("federation.report",)),
    InterfaceDefault("sms", "短信平台", topics=("case.progress",)),
    InterfaceDefault("zhengzhao", "电子证照库", topics=("certificate.issued", "certificate.status")),
    InterfaceDefault("face", "人脸核验"),
    InterfaceDefault("payment", "统一支付"),
    InterfaceDefault("express", "邮政快递"),
    InterfaceDefault("tsa", "时间戳服务（RFC 3161）"),
    InterfaceDefault("archive", "档案馆电子档案接收", timeout_ms=10000),
    InterfaceDefault("haochaping", "省政务服务好差评系统", topics=("feedback.rating",)),
    # The banks' receiving system for the 不动产登记证明 of their mortgages (app/registry/institution_copies.py);
    # the message names the bank by its USCC and carries the signed PDF.
    InterfaceDefault("bank_receiver", "银行不动产登记证明接收", topics=("certificate.issued_to_institution",),
                     timeout_ms=10000),
]


def ensure_interfaces(session: Session, settings: Settings) -> list[Interface]:
    """Create missing interface rows; an explicit ``INTERFACE_<CODE>_URL`` also updates an existing one, and an
    existing subscriber gains the default topics it lacks."""
    existing = {i.code: i for i in session.execute(select(Interface)).scalars()}
    rows = []
    for d in DEFAULTS:
        override = os.environ.get(f"INTERFACE_{d.code.upper()}_URL")
        iface = existing.get(d.code)
        if iface is None:
            iface = Interface(code=d.code, name=d.name, base_url=override or settings.integrations_base_url,
                              timeout_ms=d.timeout_ms, max_retries=d.max_retries, topics=list(d.topics),
                              inbox_path=f"/{d.code}/inbox" if d.topics else None)
            iface.ensure_id()
            iface.credential = settings.integrations_api_key
            session.add(iface)
        else:
            if override:
                iface.base_url = override
            missing = [t for t in d.topics if t not in (iface.topics or [])]
            if missing:  # a topic added in a release (e.g. register.checkpoint) reaches existing installations
                iface.topics = [*(iface.topics or []), *missing]
        rows.append(iface)
    session.flush()
    return rows


# ---- Interface management (运维): health, edits (audited), test calls ----------------------------------------

EDITABLE = ("base_url", "timeout_ms", "max_retries", "breaker_threshold", "breaker_cooldown_s", "enabled")
LIMITS = {"timeout_ms": (100, 60_000), "max_retries": (0, 5), "breaker_threshold": (1, 100),
          "breaker_cooldown_s": (1, 3600)}
HEALTH_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Health:
    """An interface's state for the operator: breaker, last call, and the last 24 hours' error rate."""

    calls: int
    errors: int
    avg_latency_ms: int
    last_at: datetime | None
    last_outcome: str | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def list_interfaces(session: Session, actor: Actor, now: datetime | None = None) -> list[tuple[Interface, Health]]:
    actor.require("interface:read")
    since = (now or utcnow()) - HEALTH_WINDOW
    failed = case((InterfaceCallLog.outcome != "ok", 1), else_=0)
    stats = {code: (n, errs or 0, int(lat or 0)) for code, n, errs, lat in session.execute(
        select(InterfaceCallLog.interface_code, func.count(), func.sum(failed), func.avg(InterfaceCallLog.latency_ms))
        .where(InterfaceCallLog.at >= since).group_by(InterfaceCallLog.interface_code))}
    last_at = dict(session.execute(select(InterfaceCallLog.interface_code, func.max(InterfaceCallLog.at))
                                   .group_by(InterfaceCallLog.interface_code)).all())
    rows = []
    for iface in session.execute(select(Interface).order_by(Interface.code)).scalars():
        at = last_at.get(iface.code)
        outcome = session.execute(select(InterfaceCallLog.outcome).where(
            InterfaceCallLog.interface_code == iface.code, InterfaceCallLog.at == at).limit(1)).scalar() if at else None
        n, errs, lat = stats.get(iface.code, (0, 0, 0))
        rows.append((iface, Health(calls=n, errors=errs, avg_latency_ms=lat, last_at=at, last_outcome=outcome)))
    return rows


def all_interfaces(session: Session, actor: Actor) -> list[Interface]:
    """Every interface by code, as configured (no health figures: ``list_interfaces`` adds those)."""
    actor.require("interface:read")
    return list(session.execute(select(Interface).order_by(Interface.code)).scalars())


@dataclass(frozen=True)
class CallFilter:
    """What the call log is searched by; every criterion is optional, ``limit`` is kept within 1–500."""

    interface: str | None = None
    business_no: str | None = None
    case_id: str | None = None
    operation: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def call_log(session: Session, actor: Actor, f: CallFilter) -> list[InterfaceCallLog]:
    """The latest calls first (request summaries hold no personal data in clear)."""
    actor.require("interface:read")
    stmt = select(InterfaceCallLog).order_by(InterfaceCallLog.at.desc()).limit(min(max(f.limit, 1), 500))
    for column, value in ((InterfaceCallLog.interface_code, f.interface), (InterfaceCallLog.business_no, f.business_no),
                          (InterfaceCallLog.case_id, f.case_id), (InterfaceCallLog.operation, f.operation),
                          (InterfaceCallLog.outcome, f.outcome)):
        if value:
            stmt = stmt.where(column == value)
    if f.since:
        stmt = stmt.where(InterfaceCallLog.at >= f.since)
    if f.until:
        stmt = stmt.where(InterfaceCallLog.at < f.until)
    return list(session.execute(stmt).scalars())


def get_interface(session: Session, actor: Actor, code: str) -> Interface:
    actor.require("interface:read")
    iface = session.execute(select(Interface).where(Interface.code == code)).scalar_one_or_none()
    if iface is None:
        raise NotFound("接口不存在", code="interface_not_found")
    return iface


def _snapshot(iface: Interface) -> dict[str, Any]:
    return {k: getattr(iface, k) for k in EDITABLE}


def update_interface(session: Session, actor: Actor, code: str, values: dict[str, str],
                     credential: str | None = None) -> Interface:
    """Change endpoint, timeout, retries, breaker policy and enabled; a non-empty ``credential`` replaces the
    stored one (encrypted; never shown again). Audited with before/after — the credential only as changed."""
    actor.require("interface:manage")
    iface = get_interface(session, actor, code)
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {}
    url = (values.get("base_url") or "").strip()
    parts = urlparse(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(url) > 300:
        errors["base_url"] = ["应为 http:// 或 https:// 开头的地址"]
    parsed["base_url"] = url
    for key, (low, high) in LIMITS.items():
        raw = (values.get(key) or "").strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            errors[key] = [f"应为 {low}–{high} 之间的整数"]
        else:
            parsed[key] = int(raw)
    parsed["enabled"] = str(values.get("enabled", "")).lower() in {"1", "on", "true", "yes"}
    if credential is not None and len(credential) > 500:
        errors["credential"] = ["凭证过长"]
    if errors:
        raise ValidationFailed("接口配置有误", errors=errors)
    before = _snapshot(iface)
    for key, value in parsed.items():
        setattr(iface, key, value)
    after = _snapshot(iface)
    changed_credential = bool(credential)
    if changed_credential:
        iface.credential = credential
    changes = {k: v for k, v in after.items() if before[k] != v}
    if changes or changed_credential:
        audit.record(session, actor_id=actor.user_id, action="interface.update", object_type="interface",
                     object_id=iface.code, before={k: before[k] for k in changes},
                     after={**changes, **({"credential": "已更换"} if changed_credential else {})})
    return iface


def reset_breaker(session: Session, actor: Actor, code: str) -> Interface:
    """Close an open circuit breaker by hand (after the department says it is back). Audited."""
    actor.require("interface:manage")
    iface = get_interface(session, actor, code)
    before = {"breaker_state": iface.breaker_state, "failure_count": iface.failure_count}
    iface.breaker_state, iface.failure_count, iface.opened_at = "closed", 0, None
    audit.record(session, actor_id=actor.user_id, action="interface.breaker_reset", object_type="interface",
                 object_id=iface.code, before=before, after={"breaker_state": "closed"})
    return iface
