"""Two platforms on loopback ports authenticate each other with their own Ed25519 keys (issue 20's foundation):
a province instance (its own app and database) calls the city's signed ping; tampered, foreign-key, expired,
replayed, unknown and misaddressed requests are refused with their codes; a city signs in a person on its
province's identity assertion and refuses the bad ones."""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import select
from support.databases import copy_database, drop, worker_database_url
from support.servers import LiveServer
from support.settings import make_settings

from app import create_app
from app.demo import ZHANG_SAN
from app.federation import assertion
from app.federation.client import call_peer, signed_headers
from app.federation.peers import add_peer, get_peer
from app.federation.signing import private_key, public_key_text
from app.identifiers import make_id_card
from app.identity.models import User
from app.security.masking import mask_id_number
from app.security.models import AuditEntry

PROVINCE, CITY, OTHER_CITY = "330000", "330100", "330200"


def _new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class Platforms:
    city: Flask
    city_url: str
    province: Flask
    province_key: Ed25519PrivateKey


@pytest.fixture
def platforms(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
              tmp_path: Path) -> Iterator[Platforms]:
    """The worker's app as 杭州 (city 330100, served on its loopback port) and a province 浙江 (330000) app on
    a database of its own, served on another port; each trusts the other's public key, nothing else shared."""
    url = worker_database_url(base_database_url, os.environ.get("PYTEST_XDIST_WORKER", "main"), "province")
    drop(url)
    copy_database(database_templates["empty"], url)
    province_secret = _new_key()
    province = create_app(make_settings(url, tmp_path, platform_level="province", platform_code=PROVINCE,
                                        federation_signing_key=province_secret))
    live = LiveServer(province)
    city_settings = seeded.config["SETTINGS"]
    city_settings.platform_level, city_settings.platform_code = "city", CITY
    city_key = private_key(city_settings.federation_signing_key)
    with seeded.extensions["db"].unit_of_work() as session:
        add_peer(session, code=PROVINCE, name="浙江省", level="province", base_url=live.url,
                 public_key=public_key_text(private_key(province_secret)))
    with province.extensions["db"].unit_of_work() as session:
        add_peer(session, code=CITY, name="杭州市", level="city", base_url=seeded.config["LIVE_URL"],
                 public_key=public_key_text(city_key))
    try:
        yield Platforms(seeded, seeded.config["LIVE_URL"], province, private_key(province_secret))
    finally:
        live.stop()
        province.extensions["db"].engine.dispose()
        drop(url)


def _send(p: Platforms, *, body: bytes = b'{"echo":"hi"}', send_body: bytes | None = None,
          key: Ed25519PrivateKey | None = None, sender: str = PROVINCE, audience: str = CITY,
          timestamp: int | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    headers = headers or signed_headers(key or p.province_key, sender=sender, audience=audience, method="POST",
                                        path="/federation/ping", body=body, timestamp=timestamp)
    return httpx.post(p.city_url + "/federation/ping", content=body if send_body is None else send_body,
                      headers={**headers, "Content-Type": "application/json", "Accept": "application/json"},
                      timeout=10)


def _refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == code, response.json()


def test_province_pings_city_with_its_own_key(platforms: Platforms) -> None:
    with platforms.province.app_context(), platforms.province.extensions["db"].unit_of_work() as session:
        city = get_peer(session, CITY)
    settings = platforms.province.config["SETTINGS"]
    reply = call_peer(city, private_key(settings.federation_signing_key), sender=settings.platform_code,
                      method="POST", path="/federation/ping", json={"echo": "你好"})
    assert reply.status == 200, reply.data
    assert reply.data == {"platform": CITY, "level": "city", "peer": PROVINCE, "echo": "你好"}


def test_bad_requests_are_refused_with_their_codes(platforms: Platforms) -> None:
    _refused(_send(platforms, send_body=b'{"echo":"changed"}'), "signature_invalid")  # tampered body
    _refused(_send(platforms, key=Ed25519PrivateKey.generate()), "signature_invalid")  # not the province's key
    _refused(_send(platforms, sender=OTHER_CITY), "peer_unknown")
    _refused(_send(platforms, audience=OTHER_CITY), "wrong_audience")
    _refused(_send(platforms, timestamp=int(time.time()) - 3600), "request_expired")
    _refused(_send(platforms, timestamp=int(time.time()) + 3600), "request_expired")
    unsigned = httpx.post(platforms.city_url + "/federation/ping", json={}, headers={"Accept": "application/json"})
    _refused(unsigned, "peer_unknown")


def test_a_replayed_request_is_refused(platforms: Platforms) -> None:
    body = b'{"echo":"once"}'
    headers = signed_headers(platforms.province_key, sender=PROVINCE, audience=CITY, method="POST",
                             path="/federation/ping", body=body)
    first = _send(platforms, body=body, headers=headers)
    assert first.status_code == 200, first.text
    _refused(_send(platforms, body=body, headers=headers), "request_replayed")


def test_two_copies_at_once_pass_once(platforms: Platforms) -> None:
    """The nonce's primary key, not a read-then-write, decides: of two copies sent at the same moment one passes."""
    body = b'{"echo":"twice"}'
    headers = signed_headers(platforms.province_key, sender=PROVINCE, audience=CITY, method="POST",
                             path="/federation/ping", body=body)
    start = threading.Barrier(2)

    def send() -> httpx.Response:
        start.wait(timeout=10)
        return _send(platforms, body=body, headers=headers)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = sorted(r.status_code for r in pool.map(lambda _: send(), range(2)))
    assert answers == [200, 401]


def _assert_for(p: Platforms, *, name: str, id_number: str, audience: str = CITY, key: Ed25519PrivateKey | None = None,
                issuer: str = PROVINCE, now: float | None = None) -> str:
    subject = assertion.Subject(name, id_number, "face", "2026-12-01T08:00:00+00:00")
    return assertion.issue(key or p.province_key, issuer=issuer, audience=audience, subject=subject, now=now)


def _arrive(client: httpx.Client, url: str, token: str, **params: str) -> httpx.Response:
    return client.get(url + "/federation/arrive", params={"assertion": token, **params})


def _arrival_audits(city: Flask, user_id: str) -> list[dict[str, Any]]:
    with city.extensions["db"].unit_of_work() as session:
        return [e.after for e in session.execute(select(AuditEntry).where(
            AuditEntry.action == "federation.identity_arrived", AuditEntry.object_id == user_id)).scalars()]


def test_city_signs_in_a_person_on_the_province_assertion(platforms: Platforms) -> None:
    id_number = make_id_card("330106", date(1991, 2, 3), 77)
    with httpx.Client(timeout=10) as browser:
        arrived = _arrive(browser, platforms.city_url, _assert_for(platforms, name="钱多多", id_number=id_number),
                          next="/portal/cases")
        assert arrived.status_code == 302, arrived.text
        assert arrived.headers["Location"] == "/portal/cases"
        account = browser.get(platforms.city_url + "/account/verify")  # a page for signed-in applicants only
        assert account.status_code == 200, account.headers.get("Location")
        assert mask_id_number(id_number) in account.text and id_number not in account.text
    with platforms.city.extensions["db"].unit_of_work() as session:
        user = session.execute(select(User).where(User.kind == "applicant")
                               .where(User.verification_level == assertion.VERIFIED_VIA)).scalars().one()
        assert (user.real_name, user.id_number, user.verified_at is not None) == ("钱多多", id_number, True)
        user_id = user.id
    assert _arrival_audits(platforms.city, user_id) == [
        {"issuer": PROVINCE, "issuer_level": "face", "account_created": True, "verification_level": "assertion"}]
    assert id_number not in json.dumps(_arrival_audits(platforms.city, user_id))


def test_an_existing_verified_account_is_matched_by_id_number(platforms: Platforms) -> None:
    with httpx.Client(timeout=10) as browser:
        arrived = _arrive(browser, platforms.city_url,
                          _assert_for(platforms, name=ZHANG_SAN["name"], id_number=ZHANG_SAN["id_number"]))
        assert arrived.status_code == 302, arrived.text
        assert arrived.headers["Location"] == "/"
    with platforms.city.extensions["db"].unit_of_work() as session:
        zhangsan = session.execute(select(User).where(User.username == "zhangsan")).scalars().one()
        assert zhangsan.verification_level != assertion.VERIFIED_VIA  # his own 实名认证 stands
        zhangsan_id = zhangsan.id
    assert [a["account_created"] for a in _arrival_audits(platforms.city, zhangsan_id)] == [False]


def test_bad_assertions_are_refused(platforms: Platforms) -> None:
    id_number = make_id_card("330106", date(1992, 4, 5), 78)
    good = _assert_for(platforms, name="赵云", id_number=id_number)
    body, _, signature = good.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["sub"]["name"] = "赵云龙"
    tampered = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=") + "." + signature
    cases = {
        "wrong_audience": _assert_for(platforms, name="赵云", id_number=id_number, audience=OTHER_CITY),
        "request_expired": _assert_for(platforms, name="赵云", id_number=id_number, now=time.time() - 3600),
        "peer_unknown": _assert_for(platforms, name="赵云", id_number=id_number, issuer=OTHER_CITY),
        "signature_invalid": tampered,
        "assertion_invalid": "not-an-assertion",
    }
    foreign = _assert_for(platforms, name="赵云", id_number=id_number, key=Ed25519PrivateKey.generate())
    with httpx.Client(timeout=10, headers={"Accept": "application/json"}) as client:
        for code, token in [*cases.items(), ("signature_invalid", foreign)]:
            refused = _arrive(client, platforms.city_url, token)
            _refused(refused, code)
        assert _arrive(client, platforms.city_url, good).status_code == 302
        _refused(_arrive(client, platforms.city_url, good), "request_replayed")
    with httpx.Client(timeout=10) as browser:  # a person's browser gets the page saying why, not a sign-in
        page = _arrive(browser, platforms.city_url, cases["request_expired"])
        assert page.status_code == 403
        assert "身份断言已过期" in page.text
    with platforms.city.extensions["db"].unit_of_work() as session:
        made = session.execute(select(User.id).where(User.verification_level == assertion.VERIFIED_VIA)).all()
        assert len(made) == 1  # only the good assertion made an account


def test_peers_are_managed_from_the_command_line(seeded: Flask) -> None:
    runner = seeded.test_cli_runner()
    own = runner.invoke(args=["federation", "key"])
    assert own.exit_code == 0, own.output
    level, code, public = own.output.split()
    assert (level, code) == (seeded.config["SETTINGS"].platform_level, seeded.config["SETTINGS"].platform_code)
    added = runner.invoke(args=["federation", "peer", "add", OTHER_CITY, "--name", "宁波市", "--level", "city",
                                "--url", "http://127.0.0.1:5999/", "--public-key", public])
    assert added.exit_code == 0, added.output
    assert "已添加对接平台 330200 宁波市（市级） http://127.0.0.1:5999" in added.output
    bad = runner.invoke(args=["federation", "peer", "add", "330201", "--name", "x", "--level", "city",
                              "--url", "http://127.0.0.1:5999", "--public-key", "not-a-key"])
    assert bad.exit_code == 1 and "未添加" in bad.output
    bad_key = runner.invoke(args=["federation", "peer", "add", "330300", "--name", "温州市", "--level", "city",
                                  "--url", "http://127.0.0.1:5999", "--public-key", "bm90LWEta2V5"])
    assert bad_key.exit_code == 1 and "公钥应为 32 字节" in bad_key.output
    listed = runner.invoke(args=["federation", "peer", "list"])
    assert f"330200  宁波市  市级  http://127.0.0.1:5999  {public}" in listed.output
    assert "共 1 个对接平台" in listed.output
    assert runner.invoke(args=["federation", "peer", "remove", OTHER_CITY]).exit_code == 0
    assert runner.invoke(args=["federation", "peer", "remove", OTHER_CITY]).exit_code == 1
    assert "共 0 个对接平台" in runner.invoke(args=["federation", "peer", "list"]).output
    with seeded.extensions["db"].unit_of_work() as session:
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.object_id == OTHER_CITY)
                                  .order_by(AuditEntry.seq)).scalars().all()
    assert actions == ["federation.peer_added", "federation.peer_removed"]
