"""The operator's “test call” (测试调用): one harmless request to a department through its real adapter —
same endpoint, credential, timeout, retries, breaker and call log as a business call — with fictional
probe values that change nothing there (look-ups of numbers that do not exist, a push marked as a probe).

The result is read back from the call log line the call wrote, so the screen shows exactly what the log
keeps (outcome, HTTP status, attempts, latency).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_id, utcnow
from app.identifiers import make_id_card, make_uscc
from app.identity.actor import Actor
from app.integrations.adapters import (
    fayuan,
    gongan,
    jinrong,
    minzheng,
    services,
    shichang,
    shuiwu,
    sifa,
    weijian,
    zhujian,
)
from app.integrations.client import CallContext, ServiceUnavailable, call
from app.integrations.interfaces import get_interface
from app.integrations.models import InterfaceCallLog
from app.security import audit

PROBE_ID = make_id_card("330100", date(2000, 1, 1), 999)  # fictional: nobody's number
PROBE_USCC = make_uscc("91", "330100", "MA2PRB01")
PROBE_NO = "PROBE-000000"

Probe = Callable[[Session, CallContext], Any]
PROBES: dict[str, Probe] = {
    "gongan": lambda s, c: gongan.verify_identity(s, c, "接口测试", PROBE_ID),
    "minzheng": lambda s, c: minzheng.marriage_status(s, c, PROBE_ID),
    "shichang": lambda s, c: shichang.business_licence(s, c, PROBE_USCC, "接口测试"),
    "jinrong": lambda s, c: jinrong.financial_licence(s, c, PROBE_USCC, "接口测试"),
    "zhujian": lambda s, c: zhujian.filed_contract(s, c, PROBE_NO),
    "shuiwu": lambda s, c: shuiwu.tax_case(s, c, PROBE_NO),
    "fayuan": lambda s, c: fayuan.court_document(s, c, PROBE_NO),
    "sifa": lambda s, c: sifa.notarial_certificate(s, c, PROBE_NO),
    "weijian": lambda s, c: weijian.vital_certificate(s, c, PROBE_NO),
    "face": lambda s, c: services.face_score(s, c, PROBE_ID, ""),
    "express": lambda s, c: services.tracking(s, c, PROBE_NO),
    "sms": lambda s, c: services.send_sms(s, c, "13800000000", "interface_probe", {}),
    "payment": lambda s, c: services.create_payment(s, c, f"PROBE-{new_id()[:12]}", "0.01", ""),
}


def _push_probe(session: Session, ctx: CallContext, code: str, inbox_path: str) -> Any:
    """A subscriber (province platform …) gets a message of topic ``interface.probe`` it can ignore."""
    key = f"probe:{new_id()}"
    return call(session, code, "push.interface.probe", "POST", inbox_path, ctx=ctx,
                summary={"topic": "interface.probe", "key": key},
                json={"topic": "interface.probe", "at": utcnow().isoformat()}, idempotency_key=key, answers=())


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str
    outcome: str
    http_status: int | None
    attempts: int
    latency_ms: int


def test_call(session: Session, actor: Actor, code: str) -> ProbeResult:
    """Call ``code`` once through its adapter and report what happened (never raises for a failed call)."""
    actor.require("interface:manage")
    iface = get_interface(session, actor, code)
    ctx = CallContext(actor_id=actor.user_id)
    started = utcnow()
    try:
        if code in PROBES:
            PROBES[code](session, ctx)
        elif iface.inbox_path:
            _push_probe(session, ctx, code, iface.inbox_path)
        else:
            return ProbeResult(False, "该接口没有可用的测试调用", "none", None, 0, 0)
        message = f"{iface.name}：调用成功"
    except ServiceUnavailable as exc:
        message = exc.message
    session.flush()
    line = session.execute(select(InterfaceCallLog).where(
        InterfaceCallLog.interface_code == code, InterfaceCallLog.actor_id == actor.user_id,
        InterfaceCallLog.at >= started).order_by(InterfaceCallLog.at.desc()).limit(1)).scalar_one()
    result = ProbeResult(line.outcome == "ok", message, line.outcome, line.http_status, line.attempts,
                         line.latency_ms)
    audit.record(session, actor_id=actor.user_id, action="interface.test_call", object_type="interface",
                 object_id=code, after={"outcome": result.outcome, "http_status": result.http_status})
    return result
