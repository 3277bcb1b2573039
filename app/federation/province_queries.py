"""Cross-city questions a province answers by asking every city (issue 20 §1): the province-wide 无房证明.

The province asks each configured city peer **at once** (one thread per city, a per-city timeout
``FEDERATION_QUERY_TIMEOUT_S``) with a signed ``POST /federation/queries/no-property`` (name, ID number,
purpose); each city answers from its own register with the query its own 无房证明 uses
(``registry.certificates.owned_units_count``) and audits the question without personal data. Then:

- every city answered and none holds a current ownership → the province issues its own 无房证明, naming the
  cities it covers;
- a city holds → refused, naming that city (and, like the city's own answer, how many units);
- a city did not answer in time (down, too slow, refused) → a *partial* answer naming the cities that did not
  reply, and no certificate: a certificate claiming the whole province must not rest on part of it.

No transaction is open while the cities are asked: the question is prepared from reads, the read transaction
is ended, the cities answer, and only then are the audit entry and the certificate written (DESIGN §7).
"""
from __future__ import annotations

import logging
import secrets
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.casefile.storage import Storage
from app.config import Settings
from app.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from app.federation import signing
from app.federation.client import call_peer
from app.federation.peers import Peer, list_peers
from app.identifiers import InvalidIdentifier, check_id_card
from app.identity.actor import Actor
from app.integrations.answers import must_wait
from app.integrations.client import ServiceUnavailable
from app.registry import certificates
from app.registry.models import Certificate
from app.security import audit
from app.security.fields import blind_index

QUERY_PATH = "/federation/queries/no-property"
log = logging.getLogger(__name__)


class PartialAnswer(DomainError):
    """Some cities did not answer in time: nothing is certified for the province; the applicant may retry."""

    status = 503
    code = "partial_answer"

    def __init__(self, message: str, *, answered: list[dict[str, str]], missing: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.answered, self.missing = answered, missing

    def problem_fields(self) -> dict[str, Any]:
        return {"answered": self.answered, "missing": self.missing, "retry": True}


@dataclass(frozen=True)
class CityAnswer:
    code: str
    name: str
    replied: bool
    owned_units: int = 0

    @property
    def holds(self) -> bool:
        return self.replied and self.owned_units > 0


# -- the city's side -----------------------------------------------------------------------------------------

def answer_no_property(session: Session, peer: Peer, body: dict[str, Any], *, own_code: str) -> dict[str, Any]:
    """Answer the province ``peer``: does the person hold a current ownership in this city's register? Only a
    province may ask; the audit entry names the asking platform, the purpose and the outcome, never the person."""
    if peer.level != "province":
        raise PermissionDenied("仅省级平台可以查询本市登记簿", code="peer_not_allowed")
    name, purpose = str(body.get("name") or "").strip(), str(body.get("purpose") or "").strip()
    try:
        id_number = check_id_card(str(body.get("id_number") or ""))
    except InvalidIdentifier as exc:
        raise ValidationFailed(f"身份证号码无效：{exc}", field="id_number") from exc
    if not 2 <= len(name) <= 30:
        raise ValidationFailed("请提供申请人姓名", field="name")
    if not purpose:
        raise ValidationFailed("请提供查询用途", field="purpose")
    city = certificates.city_office(session)
    owned = certificates.owned_units_count(session, blind_index(id_number))
    audit.record(session, actor_id=None, action="federation.no_property_answered", object_type="federation_peer",
                 object_id=peer.code, tenant_id=city.code,
                 after={"purpose": purpose[:200], "query": str(body.get("query") or "")[:64],
                        "outcome": "holds" if owned else "none"})
    return {"platform": own_code, "name": city.name, "holds": owned > 0, "owned_units": owned}


# -- the province's side -------------------------------------------------------------------------------------

def _ask_one(peer: Peer, key: Any, sender: str, body: dict[str, Any], timeout: float) -> CityAnswer:
    try:
        reply = call_peer(peer, key, sender=sender, method="POST", path=QUERY_PATH, json=body, timeout_s=timeout)
    except ServiceUnavailable:
        return CityAnswer(peer.code, peer.name, replied=False)
    except Exception:  # any other failure of one city is that city not answering, never the whole question's
        log.exception("province-wide query to %s failed", peer.code)
        return CityAnswer(peer.code, peer.name, replied=False)
    if reply.status != 200:
        log.warning("province-wide query: %s answered HTTP %s %s", peer.code, reply.status, reply.data.get("code"))
    if reply.status != 200 or not isinstance(reply.data.get("owned_units"), int):
        return CityAnswer(peer.code, peer.name, replied=False)  # refused or garbled: no answer to rely on
    return CityAnswer(peer.code, peer.name, replied=True, owned_units=reply.data["owned_units"])


def ask_cities(cities: list[Peer], key: Any, *, sender: str, body: dict[str, Any],
               timeout: float) -> list[CityAnswer]:
    """Every city's answer, asked concurrently; a city with no good answer within ``timeout`` (plus a second
    for the threads) is one that did not reply. Never waits on a city beyond that."""
    pool = ThreadPoolExecutor(max_workers=max(1, len(cities)), thread_name_prefix="province-query")
    try:
        futures = {pool.submit(_ask_one, peer, key, sender, body, timeout): peer for peer in cities}
        done, _late = wait(futures, timeout=timeout + 1)
        return [future.result() if future in done else CityAnswer(peer.code, peer.name, replied=False)
                for future, peer in futures.items()]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def city_peers(session: Session, province_code: str) -> list[Peer]:
    """The cities of this province among the configured peers (their codes start with the province's two)."""
    return [p for p in list_peers(session) if p.level == "city" and p.code[:2] == province_code[:2]]


def _names(answers: list[CityAnswer]) -> str:
    return "、".join(a.name for a in answers)


def province_no_property(session: Session, storage: Storage, actor: Actor, settings: Settings, *,
                         purpose: str) -> Certificate:
    """全省无房证明 for a real-name applicant: ask every city, then issue, refuse or answer partially (above).
    Always audited at the province, whatever the outcome."""
    user, purpose, _ = certificates.no_property_applicant(session, actor, purpose)
    if settings.platform_level != "province":
        raise NotFound("全省无房证明由省级平台出具，请在市级平台申请本市无房证明", code="not_province")
    cities = city_peers(session, settings.platform_code)
    if not cities:
        raise Conflict("本省尚未配置市级平台，不能出具全省无房证明", code="no_city_peers")
    key = signing.private_key(settings.federation_signing_key)
    query = secrets.token_urlsafe(12)  # ties the cities' audit entries to this one
    body = {"name": user.real_name, "id_number": user.id_number or "", "purpose": purpose[:200], "query": query}
    if must_wait(session):  # nothing is written before the question: this is a bug, not a state
        raise RuntimeError("province-wide query asked inside a transaction that has written")
    answers = ask_cities(cities, key, sender=settings.platform_code, body=body,
                         timeout=settings.federation_query_timeout_s)
    holding = [a for a in answers if a.holds]
    missing = [a for a in answers if not a.replied]
    outcome = "refused" if holding else "partial" if missing else "issued"
    audit.record(session, actor_id=actor.user_id, action="federation.province_no_property_query",
                 object_type="person", object_id=actor.user_id, tenant_id=settings.platform_code,
                 after={"purpose": purpose[:200], "query": query, "outcome": outcome,
                        "answered": [a.code for a in answers if a.replied], "missing": [a.code for a in missing],
                        "holding": [a.code for a in holding]})
    if holding:
        detail = "、".join(f"{a.name} {a.owned_units} 处" for a in holding)
        raise Conflict(f"经查询，您名下在{_names(holding)}登记有现势房屋所有权（{detail}），不能出具全省无房证明",
                       code="owns_property")
    if missing:
        answered = [a for a in answers if a.replied]
        said = f"{_names(answered)}已答复您名下无现势房屋所有权登记；" if answered else ""
        raise PartialAnswer(f"{said}{_names(missing)}未在规定时间内答复，暂不能出具全省无房证明，请稍后重试",
                            answered=[{"code": a.code, "name": a.name} for a in answered],
                            missing=[{"code": a.code, "name": a.name} for a in missing])
    return certificates.issue_province_no_property(session, storage, actor, office_code=settings.platform_code,
                                                   purpose=purpose, cities=[a.name for a in answers])
