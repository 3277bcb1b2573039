"""Issue 20's acceptance across four OS processes (national 000000, 浙江 330000, 杭州 330100, 宁波 330200; each its
own database, prepared as ``make federation-demo`` prepares them: tests/support/platforms.py): 王宁 signs in at
the national portal over HTTP and files a 变更登记 for his 宁波 海曙区 flat with its materials; the province routes
it to 宁波; 宁波's 海曙区 clerks take it through 受理 → 审核 → 登簿 → 缮证 over 宁波's REST API; 宁波 renders the
certificate; each platform's outbox (``flask outbox deliver`` in that platform's own environment, as its
scheduler job runs it) carries the progress and the certificate up to the province and on to the national
platform, whose ``/national/my`` shows the 业务号, the steps and the certificate with its verification link, which
宁波's ``/verify`` page confirms. 杭州 sees nothing of it. The departments are the worker's simulator (公安, 民政 …
know 宁波's people). On SQLite and PostgreSQL (TEST_DATABASE_URL)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from support.federation_nav import csrf_token
from support.forms import PDF
from support.platforms import RunningPlatforms, running_platforms
from support.servers import LiveServer
from support.waiting import wait_for

from app import federation_demo as demo
from app.casefile.models import Case
from app.config import ROOT
from app.demo_platforms import DEMO_PASSWORD, WANG_NING, ningbo_unit_code
from app.federation.forward_models import FederatedCase
from app.federation.models import FederationNonce
from app.integrations.models import InterfaceCallLog, OutboxDelivery, OutboxMessage
from app.registry.models import Certificate
from app.security.models import AuditEntry
from app.vocabulary import OutboxStatus

NATIONAL, PROVINCE, HANGZHOU, NINGBO = "000000", "330000", "330100", "330200"
HAISHU = "330203"
CLERKS = {"受理": "hs_acceptor", "审核": "hs_reviewer", "登簿": "hs_recorder", "缮证": "hs_certifier"}
MATERIALS = ("holder_identity", "title_certificate", "change_proof")


@pytest.fixture(scope="module")
def platforms(database_templates: dict[str, str], simulator: LiveServer, tmp_path_factory: pytest.TempPathFactory,
              ) -> Iterator[RunningPlatforms]:
    """The four platforms, their department interfaces on the worker's simulator (with its secrets)."""
    secrets = {name: os.environ[name] for name in demo.DEPARTMENT_SECRETS}
    with running_platforms(tmp_path_factory.mktemp("ningbo"), template_url=database_templates["empty"],
                           simulator_url=simulator.url, extra_env=secrets) as running:
        yield running





class Clerk:
    """A 宁波 clerk on 宁波's REST API with a bearer token from its token endpoint."""

    def __init__(self, base_url: str, username: str) -> None:
        reply = httpx.post(base_url + "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD},
                           timeout=10)
        assert reply.status_code == 200, reply.text
        self.http = httpx.Client(base_url=base_url, timeout=30,
                                 headers={"Authorization": f"Bearer {reply.json()['access_token']}"})

    def __enter__(self) -> Clerk:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def open_tasks(self, business_no: str, stage: str) -> list[dict[str, Any]]:
        reply = self.http.get("/api/v1/tasks", params={"business_no": business_no, "stage": stage})
        assert reply.status_code == 200, reply.text
        return reply.json()["items"]  # type: ignore[no-any-return]

    def complete(self, business_no: str, stage: str) -> httpx.Response:
        """Completes the one open ``stage`` task of the case (waiting for it to open), approving it."""
        wait_for(lambda: bool(self.open_tasks(business_no, stage)), f"an open {stage} task at 宁波", timeout_s=30)
        [task] = self.open_tasks(business_no, stage)
        return self.http.post(f"/api/v1/tasks/{task['id']}/complete",
                              json={"decision": "approve", "opinion": f"{stage}意见：符合规定", "data": {},
                                    "confirm_record": True})


def _deliver_outbox(p: RunningPlatforms, code: str) -> str:
    """``flask outbox deliver`` (what the platform's scheduler job runs) in the platform's own environment."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "deliver"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env=demo.environment(p.specs[code], simulator_url=p.simulator_url, extra=p.extra))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _deliveries(p: RunningPlatforms, code: str, interface: str) -> dict[str, str]:
    """What the platform's outbox did with its messages for the subscriber ``interface`` (only this test's case
    has any): topic → status (with the last error when not sent)."""
    rows = p.rows(code, select(OutboxMessage.topic, OutboxDelivery.status, OutboxDelivery.last_error)
                 .join(OutboxDelivery, OutboxDelivery.message_id == OutboxMessage.id)
                 .where(OutboxDelivery.interface_code == interface))
    return {topic: status if status == OutboxStatus.SENT else f"{status}: {error}" for topic, status, error in rows}


def _file_at_the_national_portal(browser: httpx.Client, unit_code: str) -> httpx.Response:
    chosen = browser.get("/national/apply", params={"business_type": "holder_change", "unit_code": unit_code})
    assert chosen.status_code == 302 and "/national/apply/holder_change" in chosen.headers["location"], chosen.text
    page = browser.get(chosen.headers["location"])
    assert page.status_code == 200, page.text[:500]
    assert "变更后姓名" in page.text and f'value="{WANG_NING["name"]}"' in page.text  # prefilled from his identity
    ref = re.search(r'name="ref" value="([^"]+)"', page.text)
    assert ref, page.text[:500]
    data = {"csrf_token": csrf_token(page.text), "ref": ref.group(1), "unit_code": unit_code, "pledge": "1",
            "holder_name": WANG_NING["name"], "holder_id_number": WANG_NING["id_number"], "new_name": "王凝",
            "new_id_number": WANG_NING["id_number"], "reason": "name_change"}
    files = [(f"material-{code}", (f"{code}.pdf", PDF, "application/pdf")) for code in MATERIALS]
    return browser.post(f"/national/apply/holder_change?unit_code={unit_code}", data=data, files=files)


def test_a_national_application_for_a_ningbo_flat_ends_in_its_certificate(platforms: RunningPlatforms) -> None:
    unit_code = ningbo_unit_code(HAISHU, 1)  # 王宁's 海曙区 flat
    with platforms.signed_in(NATIONAL, "wangning") as browser:
        sent = _file_at_the_national_portal(browser, unit_code)
        assert sent.status_code == 302 and sent.headers["location"].endswith("/national/my"), sent.text[:2000]
        mine = browser.get("/national/my").text
        filed = re.search(r"申请已转送至不动产所在地登记机构，业务号 (\w+)。", mine)
        assert filed, mine
        business_no = filed.group(1)
        assert "宁波市" in mine and "变更登记" in mine

        # the province routed it to 宁波, which filed it and holds it in 海曙区's 受理 inbox
        [(city, routed_no)] = platforms.rows(PROVINCE, select(FederatedCase.city_code, FederatedCase.business_no))
        assert (city, routed_no) == (NINGBO, business_no)
        [(tenant, status)] = platforms.rows(NINGBO, select(Case.tenant_id, Case.status)
                                   .where(Case.business_no == business_no))
        assert (tenant, status) == (HAISHU, "accepting")

        for stage, username in CLERKS.items():
            with Clerk(platforms.url(NINGBO), username) as clerk:
                done = clerk.complete(business_no, stage)
            assert done.status_code == 200, (stage, done.text)

        # 制证 follows 缮证 in 宁波's process (after the response): its certificate, rendered and announced
        def rendered() -> list[Any]:
            return platforms.rows(NINGBO, select(Certificate.number, Certificate.verify_code, Certificate.sha256)
                         .where(Certificate.business_no == business_no, Certificate.sha256.is_not(None)))

        wait_for(rendered, "宁波's certificate rendered", timeout_s=60)
        [(number, verify_code, _sha)] = rendered()
        assert re.fullmatch(r"浙\(\d{4}\)海曙区不动产权第\d{7}号", number), number

        # 逐级归集: 宁波's outbox reports to the province, the province's relays to the national platform
        _deliver_outbox(platforms, NINGBO)
        sent = _deliveries(platforms, NINGBO, "province")
        assert {"case.progress", "certificate.issued"} <= set(sent), sent
        assert set(sent.values()) == {OutboxStatus.SENT}, sent
        [(status, certificates)] = platforms.rows(PROVINCE, select(FederatedCase.status, FederatedCase.certificates)
                                         .where(FederatedCase.business_no == business_no))
        assert status == "completed" and [c["certificate_no"] for c in certificates] == [number]
        _deliver_outbox(platforms, PROVINCE)
        relayed = _deliveries(platforms, PROVINCE, "national")
        assert set(relayed) == {"federation.report"} and set(relayed.values()) == {OutboxStatus.SENT}, relayed

        mine = browser.get("/national/my").text
        assert f"业务号 {business_no}" in mine and number in mine and "已办结" in mine
        for stage in CLERKS:
            assert stage in mine, stage
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", mine)  # the steps in Beijing time
        link = re.search(r'href="([^"]+)">查验</a>', mine)
        assert link and link.group(1).startswith(platforms.url(NINGBO)) and verify_code in link.group(1), mine

    verified = httpx.get(link.group(1), timeout=10)  # 宁波's public verification page, no sign-in
    assert verified.status_code == 200 and number in verified.text
    assert 'class="status valid"' in verified.text and "有效" in verified.text
    assert WANG_NING["id_number"] not in verified.text

    # at 宁波: the case completed, filed for 王宁's own account there (matched by ID number, vouched for by the
    # province), audited without his ID number
    assert platforms.rows(NINGBO, select(Case.status).where(Case.business_no == business_no)) == [("completed",)]
    [(accepted,)] = platforms.rows(NINGBO, select(AuditEntry.after)
                          .where(AuditEntry.action == "federation.application_accepted"))
    assert (accepted["business_no"], accepted["forwarded_by"], accepted["origin"]) == (business_no, PROVINCE, NATIONAL)
    assert accepted["account_created"] is False and WANG_NING["id_number"] not in str(accepted)

    # 杭州's process saw nothing of it: no case, no routing row, no signed request at all, no audit entry; the
    # province called only 宁波
    assert platforms.rows(HANGZHOU, select(func.count()).select_from(Case)
                 .where(Case.business_no == business_no)) == [(0,)]
    assert platforms.rows(HANGZHOU, select(func.count()).select_from(FederatedCase)) == [(0,)]
    assert platforms.rows(HANGZHOU, select(func.count()).select_from(FederationNonce)) == [(0,)]  # no signed call
    assert platforms.rows(NINGBO, select(FederationNonce.peer_code).distinct()) == [(PROVINCE,)]
    assert platforms.rows(HANGZHOU, select(func.count()).select_from(AuditEntry)
                 .where(AuditEntry.action.like("federation.application%"))) == [(0,)]
    assert platforms.rows(PROVINCE, select(InterfaceCallLog.interface_code, InterfaceCallLog.operation)
                 .where(InterfaceCallLog.interface_code.like("peer:%"))) == [(f"peer:{NINGBO}", "application.forward")]
