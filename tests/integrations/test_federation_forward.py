"""Applications across levels (issue 20 §1): filed at the national platform's page, checked and routed by the
province by division code, filed at the city through the portal's own intake; the city's clerks take it to its
certificate and the progress and e-certificate come back up (逐级归集). Each platform its own app, database and
loopback port (tests/support/federation_platforms.py)."""
from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support.cases import complete_stage
from support.federation_platforms import CITY, NATIONAL, PROVINCE, Platforms, three_platforms
from support.forms import PDF
from support.personas import STAFF

from app.casefile.models import Case
from app.demo import DEMO_PASSWORD, ZHANG_SAN
from app.federation import applications
from app.federation.forward_models import CollectedCheckpoint, FederatedCase
from app.identifiers import make_unit_code
from app.integrations.models import InterfaceCallLog
from app.integrations.outbox import deliver_pending
from app.security.models import AuditEntry

PATH = "/federation/applications"


@pytest.fixture
def platforms(seeded: Flask, base_database_url: str, database_templates: dict[str, str],
              tmp_path: Path) -> Iterator[Platforms]:
    with three_platforms(seeded, base_database_url, database_templates, tmp_path) as platforms:
        yield platforms


def _unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def _form(**overrides: Any) -> dict[str, Any]:
    form = {"holder_name": ZHANG_SAN["name"], "holder_id_number": ZHANG_SAN["id_number"], "new_name": "张叁",
            "new_id_number": ZHANG_SAN["id_number"], "reason": "name_change"}
    return {**form, **overrides}


def _body(ref: str, unit_code: str, *, form: dict[str, Any] | None = None,
          materials: tuple[str, ...] = ("holder_identity", "title_certificate", "change_proof")) -> dict[str, Any]:
    from app.federation.assertion import Subject

    uploads = [applications.Upload(code, f"{code}.pdf", PDF) for code in materials]
    return applications.build_body(origin=NATIONAL, ref=ref, business_type="holder_change", unit_code=unit_code,
                                   form=form or _form(), uploads=uploads, agreed_at="2026-12-06T10:00:00+08:00",
                                   statement="本人承诺",
                                   applicant=Subject(ZHANG_SAN["name"], ZHANG_SAN["id_number"], "face",
                                                     "2026-12-01T08:00:00+00:00"))


def _to_province(p: Platforms, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return p.post_signed(p.province_url, PATH, raw, key=p.national_key, sender=NATIONAL, audience=PROVINCE)


def _count(app: Flask, model: Any) -> int:
    with app.extensions["db"].unit_of_work() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def _sign_in(client: FlaskClient, username: str) -> None:
    resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                       "csrf_token": _csrf(client, "/login")})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]


def _deliver(app: Flask) -> None:
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        report = deliver_pending(session)
    assert report.dead == 0, str(report)


def test_an_application_filed_nationally_gets_its_certificate_and_the_progress_comes_back(
        platforms: Platforms, login: Any) -> None:
    browser = platforms.national.test_client()
    _sign_in(browser, "zhangsan")
    unit_code = _unit(1)
    chosen = browser.get("/national/apply", query_string={"business_type": "holder_change", "unit_code": unit_code})
    assert chosen.status_code == 302 and "/national/apply/holder_change" in chosen.headers["Location"]
    page = browser.get(chosen.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    assert "变更后姓名" in html and "不动产权证书" in html  # the form and the checklist from the definition
    assert f'value="{ZHANG_SAN["name"]}"' in html  # prefilled from the verified identity, as the portal does
    ref = re.search(r'name="ref" value="([^"]+)"', html)
    assert ref
    data: dict[str, Any] = {**_form(), "csrf_token": _csrf(browser, chosen.headers["Location"]), "ref": ref.group(1),
                            "unit_code": unit_code, "pledge": "1"}
    for code in ("holder_identity", "title_certificate", "change_proof"):
        data[f"material-{code}"] = (io.BytesIO(PDF), f"{code}.pdf")
    sent = browser.post(f"/national/apply/holder_change?unit_code={unit_code}", data=data,
                        content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]

    with platforms.session(platforms.national) as session:
        [filed] = session.execute(select(FederatedCase)).scalars().all()
        business_no, case_id = filed.business_no, filed.case_id
    assert business_no and filed.city_code == CITY and filed.origin_code == NATIONAL
    with platforms.session(platforms.province) as session:
        routed = session.execute(select(FederatedCase).where(FederatedCase.business_no == business_no)).scalar_one()
        assert (routed.city_code, routed.case_id, routed.origin_ref) == (CITY, case_id, filed.origin_ref)
    with platforms.session(platforms.city) as session:  # at the city: the case, waiting in the 受理 inbox
        case = session.get(Case, case_id)
        assert case is not None and case.business_no == business_no and case.status == "accepting"
    inbox = login(STAFF["受理"]).get("/api/v1/tasks", query_string={"business_no": business_no}).get_json()
    assert [t["stage"] for t in inbox["items"]] == ["受理"]

    for stage in ("受理", "审核", "登簿", "缮证"):
        resp = complete_stage(login(STAFF[stage]), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
    _deliver(platforms.city)  # the city's outbox: progress, result and certificate to the province (signed)
    with platforms.session(platforms.province) as session:
        routed = session.execute(select(FederatedCase).where(FederatedCase.business_no == business_no)).scalar_one()
        assert routed.status == "completed", routed.steps
        assert [c["kind"] for c in routed.certificates] == ["title"]
        assert routed.certificates[0]["sha256"] and routed.certificates[0]["verify_url"]
        stages = {s["stage"] for s in routed.steps}
    assert {"受理", "审核", "登簿", "缮证"} <= stages
    _deliver(platforms.province)  # the province relays them to the national platform
    with platforms.session(platforms.national) as session:
        filed = session.execute(select(FederatedCase)).scalar_one()
        assert filed.status == "completed" and filed.certificates[0]["certificate_no"]
        number = filed.certificates[0]["certificate_no"]
    mine = browser.get("/national/my").get_data(as_text=True)
    assert business_no in mine and number in mine and "查验" in mine
    assert "杭州市" in mine and "变更登记" in mine and "已办结" in mine
    with platforms.session(platforms.city) as session:  # 张三's own account at the city, matched by ID number
        [accepted] = session.execute(select(AuditEntry).where(
            AuditEntry.action == "federation.application_accepted")).scalars().all()
        assert accepted.after["account_created"] is False and accepted.after["forwarded_by"] == PROVINCE
        assert ZHANG_SAN["id_number"] not in json.dumps(accepted.after, ensure_ascii=False)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", mine)  # steps in Beijing time
    with platforms.session(platforms.province) as session:  # peer calls are in the interface call log
        lines = session.execute(select(InterfaceCallLog.operation).where(
            InterfaceCallLog.interface_code == f"peer:{CITY}")).scalars().all()
    assert lines == ["application.forward"]


def test_an_incomplete_application_is_refused_at_the_province(platforms: Platforms) -> None:
    body = _body("REF-incomplete-1", _unit(2), form=_form(new_name=""), materials=("holder_identity",))
    refused = _to_province(platforms, body)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "incomplete"
    assert "new_name" in problem["errors"]
    assert problem["errors"]["materials.title_certificate"] == ["请上传：不动产权证书"]
    assert _count(platforms.province, FederatedCase) == 0 and _count(platforms.city, FederatedCase) == 0


def test_a_unit_of_an_unconnected_city_is_refused(platforms: Platforms) -> None:
    wenzhou = make_unit_code("330302", 1, 1, "GB", 100, 1, 101)  # 温州: a city of 浙江 that is not a peer
    refused = _to_province(platforms, _body("REF-wenzhou-1", wenzhou))
    assert refused.status_code == 422 and refused.json()["code"] == "city_unknown", refused.text
    jiangsu = make_unit_code("320102", 1, 1, "GB", 100, 1, 101)  # not this province
    refused = _to_province(platforms, _body("REF-jiangsu-1", jiangsu))
    assert refused.status_code == 422 and refused.json()["code"] == "city_unknown", refused.text


def test_a_city_that_does_not_answer_leaves_nothing_stored(platforms: Platforms) -> None:
    from app.federation.models import FederationPeer

    with platforms.session(platforms.province) as session:
        session.get(FederationPeer, CITY).base_url = "http://127.0.0.1:9"  # nothing listens there
    cases_before = _count(platforms.city, Case)
    refused = _to_province(platforms, _body("REF-down-1", _unit(3)))
    assert refused.status_code == 503 and refused.json()["code"] == "city_unavailable", refused.text
    assert _count(platforms.province, FederatedCase) == 0 and _count(platforms.city, Case) == cases_before
    for n in (2, 3, 4):  # three failures in a row open the breaker: the fourth answers at once
        again = _to_province(platforms, _body(f"REF-down-{n}", _unit(3)))
        assert again.status_code == 503 and again.json()["code"] == "city_unavailable", again.text
    with platforms.session(platforms.province) as session:
        outcomes = session.execute(select(InterfaceCallLog.outcome).where(
            InterfaceCallLog.interface_code == f"peer:{CITY}").order_by(InterfaceCallLog.at)).scalars().all()
    assert outcomes == ["error", "error", "error", "short_circuit"]
    assert _count(platforms.province, FederatedCase) == 0


def test_a_replay_answers_the_same_and_files_nothing_new(platforms: Platforms) -> None:
    with platforms.session(platforms.city) as session:
        cases_before = session.execute(select(func.count()).select_from(Case)).scalar_one()
    body = _body("REF-replay-1", _unit(2))
    first = _to_province(platforms, body)
    assert first.status_code == 200, first.text
    again = _to_province(platforms, body)
    assert again.status_code == 200 and again.json() == first.json()
    assert first.json()["business_no"] and first.json()["city"] == CITY
    with platforms.session(platforms.city) as session:
        assert session.execute(select(func.count()).select_from(Case)).scalar_one() == cases_before + 1
    # the same reference with other content is a conflict, at the province and at the city
    other = _body("REF-replay-1", _unit(2), form=_form(new_name="张叄"))
    assert _to_province(platforms, other).json()["code"] == "ref_reused"
    raw = json.dumps(other, ensure_ascii=False).encode()
    at_city = platforms.post_signed(platforms.city_url, PATH, raw, key=platforms.province_key, sender=PROVINCE,
                                    audience=CITY)
    assert at_city.status_code == 409 and at_city.json()["code"] == "ref_reused", at_city.text


def test_unsigned_and_foreign_requests_are_refused(platforms: Platforms) -> None:
    raw = json.dumps(_body("REF-foreign-1", _unit(3)), ensure_ascii=False).encode()
    unsigned = httpx.post(platforms.city_url + PATH, content=raw, timeout=10,
                          headers={"Content-Type": "application/json", "Accept": "application/json"})
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "peer_unknown"
    # the national platform is not the city's peer: it must go through the province
    direct = platforms.post_signed(platforms.city_url, PATH, raw, key=platforms.national_key, sender=NATIONAL,
                                   audience=CITY)
    assert direct.status_code == 401 and direct.json()["code"] == "peer_unknown"
    # a province key that is not the province's
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = platforms.post_signed(platforms.city_url, PATH, raw, key=Ed25519PrivateKey.generate(),
                                   sender=PROVINCE, audience=CITY)
    assert forged.status_code == 401 and forged.json()["code"] == "signature_invalid"
    # a city does not route: the province's endpoint refuses a city sender
    at_province = platforms.post_signed(platforms.province_url, PATH, raw,
                                        key=_city_key(platforms), sender=CITY, audience=PROVINCE)
    assert at_province.status_code == 403 and at_province.json()["code"] == "peer_not_allowed"
    assert _count(platforms.city, FederatedCase) == 0 and _count(platforms.province, FederatedCase) == 0


def _city_key(p: Platforms) -> Any:
    from app.federation.signing import private_key

    return private_key(p.city.config["SETTINGS"].federation_signing_key)


def test_register_checkpoints_reach_the_province_and_check_against_the_citys_export(platforms: Platforms) -> None:
    from app.registry.checkpoints import checkpoint_log, make_checkpoint, office_keys
    from app.registry.log_export import export_package, verify_package

    city = platforms.city
    with city.app_context(), city.extensions["db"].unit_of_work() as session:
        make_checkpoint(session)
    _deliver(city)
    with platforms.session(platforms.province) as session:
        [kept] = session.execute(select(CollectedCheckpoint)).scalars().all()
        assert kept.city_code == CITY and kept.consistent
        record = dict(kept.record)
    with city.app_context(), city.extensions["db"].unit_of_work() as session:
        package = export_package(session, checkpoint_log())
        _key, cert = office_keys()
    assert package["checkpoint"]["body"] == record["body"]
    assert package["checkpoint"]["signature"] == record["signature"]
    check = verify_package({**package, "checkpoint": record}, cert)
    assert check.ok, check.problems


def test_the_national_page_shows_the_refusal_from_below_on_the_form(platforms: Platforms) -> None:
    browser = platforms.national.test_client()
    _sign_in(browser, "zhangsan")
    wenzhou = make_unit_code("330302", 1, 1, "GB", 100, 1, 101)
    path = f"/national/apply/holder_change?unit_code={wenzhou}"
    data: dict[str, Any] = {**_form(), "csrf_token": _csrf(browser, path), "ref": "REF-page-1", "unit_code": wenzhou,
                            "pledge": "1", "material-title_certificate": (io.BytesIO(PDF), "title.pdf")}
    refused = browser.post(path, data=data, content_type="multipart/form-data")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422, html[:500]
    assert "尚未接入本省平台" in html and "请修改以下内容" in html
    missing = browser.post(path, data={**_form(), "csrf_token": _csrf(browser, path), "unit_code": wenzhou},
                           content_type="multipart/form-data")
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "请上传：不动产权证书" in html and "请阅读并勾选申请承诺" in html
    assert _count(platforms.national, FederatedCase) == 0


def test_a_report_that_overtook_the_citys_answer_moves_to_the_routing_row(platforms: Platforms) -> None:
    """The city's first progress report reached the province before the province recorded its routing row (here:
    the city was sent the application directly): the report carries the case's origin, so the province kept it
    under the national application's reference and relayed it at once; the routing then takes that row over."""
    from app.integrations.models import OutboxMessage

    body = _body("REF-overtaken-1", _unit(2))
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    direct = platforms.post_signed(platforms.city_url, PATH, raw, key=platforms.province_key, sender=PROVINCE,
                                   audience=CITY)
    assert direct.status_code == 200, direct.text
    business_no = direct.json()["business_no"]
    _deliver(platforms.city)
    with platforms.session(platforms.province) as session:
        [kept] = session.execute(select(FederatedCase)).scalars().all()
        assert (kept.origin_code, kept.origin_ref, kept.business_no) == (NATIONAL, "REF-overtaken-1", business_no)
        assert kept.steps and not kept.content_sha256
    routed = _to_province(platforms, body)
    assert routed.status_code == 200 and routed.json() == direct.json()
    with platforms.session(platforms.province) as session:
        [row] = session.execute(select(FederatedCase)).scalars().all()
        assert (row.origin_code, row.origin_ref, row.business_no) == (NATIONAL, "REF-overtaken-1", business_no)
        assert row.steps
        relayed = session.execute(select(OutboxMessage).where(OutboxMessage.topic == "federation.report")).scalars()
        assert {m.payload["report"] for m in relayed} == {"case.progress"}


def test_the_citys_own_rules_refuse_and_the_province_passes_the_refusal_on(platforms: Platforms) -> None:
    """李四 is not the registered holder of 张三's flat: the city's intake refuses at submission exactly as its
    portal does (a register rule, in Chinese), the province answers that refusal and neither keeps anything."""
    from app.demo import LI_SI
    from app.federation.assertion import Subject

    uploads = [applications.Upload(code, f"{code}.pdf", PDF)
               for code in ("holder_identity", "title_certificate", "change_proof")]
    body = applications.build_body(
        origin=NATIONAL, ref="REF-not-holder-1", business_type="holder_change", unit_code=_unit(1),
        form=_form(holder_name=LI_SI["name"], holder_id_number=LI_SI["id_number"], new_name="李思",
                   new_id_number=LI_SI["id_number"]),
        uploads=uploads, agreed_at="2026-12-06T10:00:00+08:00", statement="本人承诺",
        applicant=Subject(LI_SI["name"], LI_SI["id_number"], "face", "2026-12-01T08:00:00+00:00"))
    cases_before = _count(platforms.city, Case)
    refused = _to_province(platforms, body)
    assert refused.status_code == 422, refused.text
    assert "权利人" in refused.json()["detail"] and refused.json()["code"] not in ("incomplete", "city_unknown")
    assert _count(platforms.city, Case) == cases_before
    assert _count(platforms.city, FederatedCase) == 0 and _count(platforms.province, FederatedCase) == 0


def test_two_copies_at_the_same_moment_file_one_case(platforms: Platforms) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    cases_before = _count(platforms.city, Case)
    body = _body("REF-twice-1", _unit(2))
    start = threading.Barrier(2)

    def send() -> httpx.Response:
        start.wait(timeout=10)
        return _to_province(platforms, body)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: send(), range(2)))
    filed = [a.json() for a in answers if a.status_code == 200]
    assert filed, [a.text for a in answers]
    assert all(a.status_code == 200 or (a.status_code == 409 and a.json()["code"] == "ref_in_progress")
               for a in answers), [a.text for a in answers]
    assert len({f["business_no"] for f in filed}) == 1
    assert _count(platforms.city, Case) == cases_before + 1
    assert _count(platforms.city, FederatedCase) == 1
    again = _to_province(platforms, body)  # sent again later: the first one's answer
    assert again.status_code == 200 and again.json()["business_no"] == filed[0]["business_no"]


def test_an_operators_test_call_of_the_province_interface_reaches_the_province_signed(platforms: Platforms) -> None:
    from app.federation.models import FederationNonce
    from app.integrations.client import CallContext
    from app.integrations.probes import _push_probe

    city = platforms.city
    with city.app_context(), city.extensions["db"].unit_of_work() as session:
        _push_probe(session, CallContext(), "province", "/province/inbox")
    with platforms.session(city) as session:
        line = session.execute(select(InterfaceCallLog).where(InterfaceCallLog.interface_code == "province")
                               .order_by(InterfaceCallLog.at.desc()).limit(1)).scalar_one()
    assert (line.outcome, line.http_status) == ("ok", 200)
    with platforms.session(platforms.province) as session:  # the province took it, signed by the city
        senders = session.execute(select(FederationNonce.peer_code)).scalars().all()
    assert senders == [CITY]
