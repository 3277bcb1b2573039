"""Sending an application down a level: the national portal to the province of the unit, the province to the
city. The call is made with no transaction open (the request's nonce and reads committed first), so no lock is
held while the level below works; its answer is recorded in a fresh transaction. A level below that does not
answer stores nothing here (503); one that refuses is passed on (its code, message and field errors)."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.federation import applications, peers, reports, signing
from app.federation.applications import Filing, PeerUnavailable, RefusedBelow
from app.federation.client import call_peer
from app.federation.forward_models import FederatedCase
from app.integrations.client import ServiceUnavailable

APPLICATIONS_PATH = "/federation/applications"
NATIONAL = reports.NATIONAL_CODE


def send_down(session: Session, peer: peers.Peer, body: dict[str, Any], *, own_code: str, signing_key: str,
              unavailable_code: str) -> dict[str, Any]:
    """POST the application to ``peer`` and return its answer; ``PeerUnavailable`` (503 ``unavailable_code``)
    when it cannot be reached or fails, ``RefusedBelow`` with its status and code when it refuses."""
    key = signing.private_key(signing_key)
    engine = session.get_bind()
    session.commit()  # nothing is held while the level below answers (DESIGN §7)
    try:
        reply = call_peer(peer, key, sender=own_code, method="POST", path=APPLICATIONS_PATH, json=body,
                          log_to=engine, operation="application.forward")
    except ServiceUnavailable as exc:
        raise PeerUnavailable(f"{peer.name}平台暂时无法连接，申请未转送，请稍后重试", code=unavailable_code) from exc
    if 200 <= reply.status < 300:
        return reply.data
    if reply.status in (401, 403) and reply.data.get("code") in ("peer_unknown", "signature_invalid",
                                                               "wrong_audience", "request_expired"):
        raise RefusedBelow(502, "peer_refused", f"{peer.name}平台拒绝了本平台的签名请求，请联系运维核对对接配置", {})
    if 400 <= reply.status < 500:
        errors: dict[str, Any] = reply.data["errors"] if isinstance(reply.data.get("errors"), dict) else {}
        raise RefusedBelow(reply.status, str(reply.data.get("code") or "refused_below"),
                           str(reply.data.get("detail") or f"{peer.name}平台不予接收该申请"), errors)
    raise PeerUnavailable(f"{peer.name}平台暂时无法处理，申请未转送，请稍后重试", code=unavailable_code)


def route_down(session: Session, filing: Filing, *, own_code: str, signing_key: str) -> dict[str, Any]:
    """At the province: a replay answers the recorded answer; else the application is checked, routed to its
    city and recorded with the city's answer."""
    existing = applications.find_filed(session, filing.origin, filing.ref, filing.content_sha256)
    if existing is not None:
        return applications.answer_of(existing)
    city = applications.check_and_route(session, filing, own_code=own_code)
    answer = send_down(session, city, filing.body, own_code=own_code, signing_key=signing_key,
                       unavailable_code="city_unavailable")
    relayed = applications.reported_first(session, filing) is not None  # its steps went up as they came
    row = applications.record_routed(session, filing, {**answer, "city": answer.get("city") or city.code})
    if filing.origin == NATIONAL and not relayed and (row.steps or row.certificates):
        reports.relay_kept(session, row)
    return answer


def file_from_national(session: Session, filing: Filing, *, applicant_user_id: str, own_code: str,
                       signing_key: str) -> FederatedCase:
    """At the national portal: the application goes to the province of its unit (first two digits + "0000",
    a configured province peer) and is recorded as the person's, with the city's 业务号."""
    province_code = filing.unit_code[:2] + "0000"
    try:
        province = peers.get_peer(session, province_code)
    except signing.FederationRefused as exc:
        raise applications.CityUnknown("该不动产所在省份的平台尚未接入全国平台", code="province_unknown",
                                       field="unit_code") from exc
    answer = send_down(session, province, filing.body, own_code=own_code, signing_key=signing_key,
                       unavailable_code="province_unavailable")
    return applications.record_routed(session, filing, answer, applicant_user_id=applicant_user_id,
                                      action="federation.application_filed")
