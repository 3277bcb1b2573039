"""Progress, results and e-certificates going up (逐级归集).

A city's outbox already announces every step (``case.progress``), the registration result
(``registration.result``) and each issued e-certificate (``certificate.issued`` / ``certificate.status``). When the
city has its province as a peer, the outbox's ``province`` subscriber is that peer, called with the city's
signature (``route``, registered with app/integrations/client.py) at ``POST /federation/reports``. The province
keeps them on its ``federated_case`` row — the routing record of an application it forwarded, or a row it opens
for a case filed at the city's own portal (the province collects every case) — and relays those of an
application that came from the national platform up to it, again through its outbox (topic
``federation.report``, subscriber ``national``), where the national platform keeps them on the applicant's row.
Receivers dedupe: a step by its number, a certificate by its number; a message sent twice changes nothing.
"""
from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.casefile.status import status_label
from app.db import utcnow
from app.errors import ValidationFailed
from app.federation import peers
from app.federation.forward_models import FederatedCase
from app.federation.models import FederationPeer
from app.integrations.client import PeerRoute
from app.integrations.models import OutboxMessage
from app.security import audit

REPORTS_PATH = "/federation/reports"
NATIONAL_CODE = "000000"
RELAY_TOPIC = "federation.report"
PROBE_TOPIC = "interface.probe"
CASE_TOPICS = ("case.progress", "registration.result", "certificate.issued", "certificate.status")
CERTIFICATE_FIELDS = ("certificate_no", "kind", "title", "status", "unit_code", "right_type", "office", "issued_on",
                      "issued_at", "sha256", "verify_url")
STEP_FIELDS = ("seq", "kind", "stage", "status", "status_label", "decision", "message", "at")


def route(engine: Any, code: str) -> PeerRoute | None:
    """The outbox's ``province`` subscriber at a city with its province as a peer (and ``national`` at a
    province with the national platform as one) is that peer, called signed at /federation/reports. Needs the
    app's settings (the key): read where the call is prepared, which runs in the app's context."""
    from flask import current_app, has_app_context

    from app.federation.client import signed_headers
    from app.federation.signing import FederationKeyMissing, private_key

    if code not in ("province", "national") or not has_app_context():
        return None
    settings = current_app.config["SETTINGS"]
    own, level = settings.platform_code, settings.platform_level
    if (code, level) == ("province", "city"):
        target = own[:2] + "0000"
    elif (code, level) == ("national", "province"):
        target = NATIONAL_CODE
    else:
        return None
    with Session(bind=engine) as session:
        row = session.get(FederationPeer, target)
        base_url = None if row is None else row.base_url
    if base_url is None:
        return None
    try:
        key = private_key(settings.federation_signing_key)
    except FederationKeyMissing:
        return None

    def sign(method: str, path: str, body: bytes) -> dict[str, str]:
        return signed_headers(key, sender=own, audience=target, method=method, path=path, body=body)

    return PeerRoute(base_url + REPORTS_PATH, sign)


def _step(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body.get(k) for k in STEP_FIELDS}


def apply_report(row: FederatedCase, topic: str, body: dict[str, Any]) -> bool:
    """Keep one report on ``row``; False when it was already kept (a duplicate delivery)."""
    if topic == "case.progress":
        seq = body.get("seq")
        if any(s.get("seq") == seq for s in row.steps):
            return False
        row.steps = sorted([*row.steps, _step(body)], key=lambda s: int(s.get("seq") or 0))
        if row.steps[-1].get("seq") == seq:  # the newest step says where the case is now
            row.status = str(body.get("status") or row.status)
            row.status_label = str(body.get("status_label") or status_label(row.status))
        return True
    if topic == "registration.result":
        if any(s.get("kind") == "recorded" for s in row.steps):
            return False
        row.steps = [*row.steps, {"seq": None, "kind": "recorded", "stage": "登簿", "status": row.status,
                                  "status_label": row.status_label, "decision": None,
                                  "message": str(body.get("result") or "已登簿"), "at": body.get("recorded_at")}]
        return True
    if topic == "certificate.issued":
        number = body.get("certificate_no")
        if any(c.get("certificate_no") == number for c in row.certificates):
            return False
        row.certificates = [*row.certificates, {k: body.get(k) for k in CERTIFICATE_FIELDS}]
        return True
    if topic == "certificate.status":
        number, changed = body.get("certificate_no"), False
        certificates = []
        for cert in row.certificates:
            if cert.get("certificate_no") == number and cert.get("status") != body.get("status"):
                cert, changed = {**cert, "status": body.get("status")}, True
            certificates.append(cert)
        row.certificates = certificates
        return changed
    return False


def _collected_row(session: Session, city: str, body: dict[str, Any]) -> FederatedCase:
    """The province's row of a case filed at the city's own portal (逐级归集 of every case)."""
    business_no = str(body.get("business_no") or "")
    row = FederatedCase(origin_code=city, origin_ref=f"local:{business_no}", content_sha256="",
                        business_type=str(body.get("business_type") or ""), unit_code=str(body.get("unit_code") or ""),
                        city_code=city, business_no=business_no, status=str(body.get("status") or ""),
                        status_label=str(body.get("status_label") or ""), steps=[], certificates=[])
    row.ensure_id()
    session.add(row)
    session.flush()
    return row


def _navigated_row(session: Session, city: str, body: dict[str, Any]) -> FederatedCase | None:
    """The province's row of a case a link navigation started (the city reports its origin with every step): kept
    under the origin's reference, so its reports are relayed to the platform the person began at."""
    origin, ref = str(body.get("origin") or ""), str(body.get("ref") or "")
    if origin != NATIONAL_CODE or not ref:
        return None
    row = session.execute(select(FederatedCase).where(FederatedCase.origin_code == origin,
                                                      FederatedCase.origin_ref == ref)).scalar_one_or_none()
    if row is not None:  # another case began from the same navigation: collected as the city's own
        return None
    row = FederatedCase(origin_code=origin, origin_ref=ref, content_sha256="",
                        business_type=str(body.get("business_type") or ""), unit_code=str(body.get("unit_code") or ""),
                        city_code=city, business_no=str(body.get("business_no") or ""),
                        status=str(body.get("status") or ""), status_label=str(body.get("status_label") or ""),
                        steps=[], certificates=[])
    row.ensure_id()
    session.add(row)
    session.flush()
    return row


def _relay(session: Session, row: FederatedCase, topic: str, body: dict[str, Any]) -> None:
    """Up to the national platform, through the province's outbox (per-case order, retried, per subscriber)."""
    payload = {k: v for k, v in body.items() if k != "topic"}
    what = f"{row.origin_code}:{row.origin_ref}:{topic}:{body.get('seq') or body.get('certificate_no') or ''}"
    what += f":{body.get('status') or ''}" if topic == "certificate.status" else ""
    # a header value: ASCII only (a certificate number is Chinese)
    key = "relay:" + hashlib.sha256(what.encode()).hexdigest()
    session.add(OutboxMessage(topic=RELAY_TOPIC, idempotency_key=key, ordering_key=f"relay:{row.id}",
                              payload={**payload, "report": topic, "origin": row.origin_code, "ref": row.origin_ref}))


def relay_kept(session: Session, row: FederatedCase) -> None:
    """Relay what a city reported before the province recorded the application as the national platform's (the
    city's first report can overtake the city's answer)."""
    for step in row.steps:
        if step.get("kind") == "recorded":
            _relay(session, row, "registration.result", {"business_no": row.business_no, "result": step.get("message"),
                                                          "recorded_at": step.get("at")})
        else:
            _relay(session, row, "case.progress", {**step, "business_no": row.business_no})
    for cert in row.certificates:
        _relay(session, row, "certificate.issued", {**cert, "business_no": row.business_no})


def receive(session: Session, peer: peers.Peer, body: dict[str, Any], *, own_code: str,
            own_level: str) -> dict[str, Any]:
    """A report from the level below: at a province from one of its cities, at the national platform from a
    province (relayed). Kept on the application's row; at a province relayed up when the application came from
    the national platform. Audited when it changed something."""
    topic = str(body.get("topic") or "")
    if topic == PROBE_TOPIC:  # an operator's test call of the interface (app/integrations/probes.py)
        return {"accepted": True, "probe": True}
    if own_level == "national" and topic == RELAY_TOPIC:
        topic = str(body.get("report") or "")
        if topic not in CASE_TOPICS or peer.level != "province":
            raise ValidationFailed("不支持的上报类型", code="report_unknown", field="topic")
        row = session.execute(select(FederatedCase).where(
            FederatedCase.origin_code == own_code, FederatedCase.origin_ref == str(body.get("ref") or ""))
        ).scalar_one_or_none()
        if row is None:
            return {"accepted": False, "reason": "unknown_application"}
        if not row.business_no and body.get("business_no"):  # a link navigation's case: its 业务号 known now
            row.business_no = str(body["business_no"])
    elif own_level == "province" and topic in CASE_TOPICS and peer.level == "city":
        business_no = str(body.get("business_no") or "")
        if not business_no:
            raise ValidationFailed("缺少业务号", code="report_invalid", field="business_no")
        row = session.execute(select(FederatedCase).where(
            FederatedCase.city_code == peer.code, FederatedCase.business_no == business_no)).scalar_one_or_none()
        row = row or _navigated_row(session, peer.code, body) or _collected_row(session, peer.code, body)
    else:
        raise ValidationFailed("本平台不接收该类上报", code="report_unknown", field="topic")
    changed = apply_report(row, topic, body)
    if changed:
        row.updated_at = utcnow()
        if own_level == "province" and row.origin_code == NATIONAL_CODE:
            _relay(session, row, topic, body)
        audit.record(session, actor_id=None, action="federation.report_received", object_type="federated_case",
                     object_id=row.id, after={"from": peer.code, "topic": topic, "business_no": row.business_no,
                                              "status": row.status})
    return {"accepted": True, "changed": changed, "business_no": row.business_no, "status": row.status}
