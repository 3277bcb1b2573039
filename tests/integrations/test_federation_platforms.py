"""Four platforms as four OS processes (national 000000, 浙江 330000, 杭州 330100, 宁波 330200), each on its own
database, prepared as ``make federation-demo`` prepares them (tests/support/platforms.py): the platforms trust
each other along national ↔ province ↔ city; the province-wide 无房证明 asks both cities at once — issued for a
person with nothing anywhere, refused naming the city that holds a flat, and a partial answer naming the city
that is down (no certificate; a retry once it is back succeeds). On SQLite and PostgreSQL (TEST_DATABASE_URL)."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from support.federation_nav import csrf_token
from support.platforms import RunningPlatforms, running_platforms

from app.config import KEYS_FILE, ROOT, read_keys_file
from app.demo import LI_SI, ZHANG_SAN
from app.demo_platforms import DEMO_PASSWORD, WANG_NING
from app.federation.client import call_peer
from app.federation.peers import Peer
from app.federation.province_queries import ask_cities
from app.federation.signing import private_key
from app.registry.models import Certificate
from app.security.models import AuditEntry

NATIONAL, PROVINCE, HANGZHOU, NINGBO = "000000", "330000", "330100", "330200"
NAMES = {NATIONAL: "全国一窗办事平台", PROVINCE: "浙江省", HANGZHOU: "杭州市", NINGBO: "宁波市"}
LEVELS = {NATIONAL: "national", PROVINCE: "province", HANGZHOU: "city", NINGBO: "city"}
LINKS = [(NATIONAL, PROVINCE), (PROVINCE, NATIONAL), (PROVINCE, HANGZHOU), (HANGZHOU, PROVINCE),
         (PROVINCE, NINGBO), (NINGBO, PROVINCE)]


@pytest.fixture(scope="module")
def platforms(database_templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory,
              ) -> Iterator[RunningPlatforms]:
    with running_platforms(tmp_path_factory.mktemp("federation"), template_url=database_templates["empty"]) as running:
        yield running


def _key(p: RunningPlatforms, code: str) -> Any:
    return private_key(read_keys_file(p.specs[code].instance / KEYS_FILE)["FEDERATION_SIGNING_KEY"])


def _peer(p: RunningPlatforms, code: str) -> Peer:
    return Peer(code, NAMES[code], LEVELS[code], p.url(code), "")


def _token(p: RunningPlatforms, code: str, username: str) -> str:
    reply = httpx.post(p.url(code) + "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD},
                       timeout=10)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])


def _ask_province(p: RunningPlatforms, username: str) -> httpx.Response:
    return httpx.post(p.url(PROVINCE) + "/api/v1/certificates/province-no-property",
                      json={"purpose": "购房资格审核"}, timeout=30,
                      headers={"Authorization": f"Bearer {_token(p, PROVINCE, username)}"})




def _ask_on_the_page(browser: httpx.Client) -> httpx.Response:
    page = browser.get("/my/province-no-property")
    assert page.status_code == 200 and "全省无房证明" in page.text
    return browser.post("/my/province-no-property", data={"csrf_token": csrf_token(page.text), "purpose": "子女入学"})



def _certificates(p: RunningPlatforms) -> int:
    return int(p.rows(PROVINCE, select(func.count()).select_from(Certificate))[0][0])


def test_the_four_platforms_see_each_other(platforms: RunningPlatforms) -> None:
    """Every link answers a signed ping both ways; a city and the national platform do not trust each other."""
    for sender, receiver in LINKS:
        reply = call_peer(_peer(platforms, receiver), _key(platforms, sender), sender=sender, method="POST",
                          path="/federation/ping", json={"echo": f"{sender}→{receiver}"})
        assert reply.status == 200, (sender, receiver, reply.data)
        assert reply.data == {"platform": receiver, "level": LEVELS[receiver], "peer": sender,
                              "echo": f"{sender}→{receiver}"}
    refused = call_peer(_peer(platforms, NATIONAL), _key(platforms, HANGZHOU), sender=HANGZHOU, method="POST",
                        path="/federation/ping", json={})
    assert (refused.status, refused.data["code"]) == (401, "peer_unknown")


def test_each_platform_pings_its_peers_from_its_own_process(platforms: RunningPlatforms) -> None:
    """``flask federation ping`` in each platform's own environment: its peer table's addresses answer and
    trust its key."""
    from app import federation_demo as demo

    pings = {code: subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "federation", "ping"],
                                    cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    env=demo.environment(spec, simulator_url=platforms.simulator_url,
                                                         extra=platforms.extra))
             for code, spec in platforms.specs.items()}
    peers = {NATIONAL: [PROVINCE], PROVINCE: [NATIONAL, HANGZHOU, NINGBO], HANGZHOU: [PROVINCE], NINGBO: [PROVINCE]}
    for code, process in pings.items():
        output = process.communicate(timeout=120)[0]
        assert process.returncode == 0, output
        assert [line for line in output.splitlines() if line.endswith("正常")] == [
            f"{peer} {NAMES[peer]} 正常" for peer in peers[code]], output


def test_preparing_again_reuses_what_exists(platforms: RunningPlatforms) -> None:
    """The demo's second run: the same keys, no unit seeded twice, no peer added again, the servers unaffected."""
    from app import federation_demo as demo
    from app.registry.models import RealtyUnit

    keys = {code: (spec.instance / KEYS_FILE).read_text() for code, spec in platforms.specs.items()}
    added = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "federation.peer_added")
    units = select(func.count()).select_from(RealtyUnit)
    before = {code: (platforms.rows(code, added)[0][0], platforms.rows(code, units)[0][0])
              for code in platforms.specs}
    demo.prepare(list(platforms.specs.values()), simulator_url=platforms.simulator_url, extra=platforms.extra)
    assert {code: (spec.instance / KEYS_FILE).read_text() for code, spec in platforms.specs.items()} == keys
    assert {code: (platforms.rows(code, added)[0][0], platforms.rows(code, units)[0][0])
            for code in platforms.specs} == before
    assert before[PROVINCE][0] == 3 and before[NINGBO] == (1, 24)
    reply = call_peer(_peer(platforms, NINGBO), _key(platforms, PROVINCE), sender=PROVINCE, method="POST",
                      path="/federation/ping", json={})
    assert reply.status == 200, reply.data


def test_province_wide_no_property_is_issued_for_a_person_without_any(platforms: RunningPlatforms) -> None:
    before = _certificates(platforms)
    reply = _ask_province(platforms, "lisi")
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert re.fullmatch(r"浙\(\d{4}\)浙江省无房证明第\d{7}号", body["number"]), body
    assert body["scope"] == "浙江省（杭州市、宁波市）"
    assert _certificates(platforms) == before + 1
    pdf = httpx.get(platforms.url(PROVINCE) + body["pdf"], timeout=10,
                    headers={"Authorization": f"Bearer {_token(platforms, PROVINCE, 'lisi')}"})
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")
    verified = httpx.get(platforms.url(PROVINCE) + "/api/v1/certificates/verify", params={"code": body["verify_code"]},
                         timeout=10).json()
    assert (verified["status"], verified["scope"]) == ("valid", "浙江省（杭州市、宁波市）")
    # each city answered and audited the question, naming the province, never the person
    for city in (HANGZHOU, NINGBO):
        entries = platforms.rows(city, select(AuditEntry.object_id, AuditEntry.after)
                        .where(AuditEntry.action == "federation.no_property_answered"))
        assert entries and entries[-1][0] == PROVINCE
        assert entries[-1][1]["outcome"] == "none"
        assert LI_SI["id_number"] not in str(entries) and LI_SI["name"] not in str(entries)
    outcome = platforms.rows(PROVINCE, select(AuditEntry.after)
                    .where(AuditEntry.action == "federation.province_no_property_query")
                    .order_by(AuditEntry.seq.desc()).limit(1))[0][0]
    assert (outcome["outcome"], sorted(outcome["answered"]), outcome["missing"]) == (
        "issued", [HANGZHOU, NINGBO], [])


def test_the_portal_page_at_the_province_issues_it(platforms: RunningPlatforms) -> None:
    with platforms.signed_in(PROVINCE, "lisi") as browser:
        assert "全省无房证明" in browser.get("/my/applications").text  # in the province's menu
        done = _ask_on_the_page(browser)
        assert done.status_code == 302, done.text
        page = browser.get(done.headers["location"])
        assert "已出具全省无房证明 浙(" in page.text
        link = re.search(r'href="([^"]+\.pdf)">下载全省无房证明 PDF', page.text)
        assert link, page.text
        assert browser.get(link.group(1)).content.startswith(b"%PDF")
    with platforms.signed_in(PROVINCE, "zhangsan") as browser:
        refused = _ask_on_the_page(browser)
    assert refused.status_code == 422 and "您名下在杭州市登记有现势房屋所有权" in refused.text


@pytest.mark.parametrize(("username", "who", "holding", "other"), [
    ("zhangsan", ZHANG_SAN, "杭州市", "宁波市"), ("wangning", WANG_NING, "宁波市", "杭州市")])
def test_a_city_holding_a_flat_refuses_naming_that_city(platforms: RunningPlatforms, username: str,
                                                        who: dict[str, str], holding: str, other: str) -> None:
    before = _certificates(platforms)
    reply = _ask_province(platforms, username)
    assert reply.status_code == 409, reply.text
    problem = reply.json()
    assert problem["code"] == "owns_property"
    assert f"您名下在{holding}登记有现势房屋所有权" in problem["detail"] and other not in problem["detail"]
    assert who["id_number"] not in reply.text
    assert _certificates(platforms) == before


def test_a_city_down_gives_a_partial_answer_and_no_certificate(platforms: RunningPlatforms) -> None:
    before = _certificates(platforms)
    platforms.stop(NINGBO)
    try:
        reply = _ask_province(platforms, "lisi")
        assert reply.status_code == 503, reply.text
        problem = reply.json()
        assert problem["code"] == "partial_answer"
        assert problem["missing"] == [{"code": NINGBO, "name": "宁波市"}]
        assert problem["answered"] == [{"code": HANGZHOU, "name": "杭州市"}]
        assert "宁波市未在规定时间内答复" in problem["detail"] and "请稍后重试" in problem["detail"]
        assert _certificates(platforms) == before
        outcome = platforms.rows(PROVINCE, select(AuditEntry.after)
                        .where(AuditEntry.action == "federation.province_no_property_query")
                        .order_by(AuditEntry.seq.desc()).limit(1))[0][0]
        assert (outcome["outcome"], outcome["missing"]) == ("partial", [NINGBO])
        with platforms.signed_in(PROVINCE, "lisi") as browser:  # the portal page says the same
            page = _ask_on_the_page(browser)
        assert page.status_code == 503
        assert "部分答复：暂不能出具全省无房证明" in page.text and "未答复：宁波市" in page.text
        assert "重新查询" in page.text and "下载全省无房证明" not in page.text
        assert _certificates(platforms) == before
    finally:
        platforms.start(NINGBO)
    again = _ask_province(platforms, "lisi")  # the retry the partial answer offers, once 宁波 is back
    assert again.status_code == 201, again.text
    assert _certificates(platforms) == before + 1


def test_a_city_that_never_answers_is_not_waited_for_beyond_the_timeout(platforms: RunningPlatforms) -> None:
    """A city that accepts the connection and never replies counts as not replied after the per-city timeout, so
    does one that refuses the question, while the city that answers is heard: all are asked at once."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        silent.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                continue

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        port = silent.getsockname()[1]
        cities = [_peer(platforms, HANGZHOU), Peer("330300", "温州市", "city", f"http://127.0.0.1:{port}", ""),
                  # a platform that refuses the question (signed for 330400, it is 000000: wrong_audience)
                  Peer("330400", "嘉兴市", "city", platforms.url(NATIONAL), "")]
        answers = ask_cities(cities, _key(platforms, PROVINCE), sender=PROVINCE, timeout=1.0,
                             body={"name": LI_SI["name"], "id_number": LI_SI["id_number"], "purpose": "测试"})
        assert [(a.code, a.replied, a.owned_units) for a in answers] == [
            (HANGZHOU, True, 0), ("330300", False, 0), ("330400", False, 0)]
    finally:
        stop.set()
        holder.join(timeout=5)
        for conn in accepted:
            conn.close()
        silent.close()
