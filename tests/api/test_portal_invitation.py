"""邀请共同申请人: the seller invites the buyer by phone; the SMS (read from the simulator) carries a signed link;
the buyer signs in by SMS code, lands on the application and confirms with the existing step. The link opens
nothing for anyone but the named party, and an altered link is refused."""
from __future__ import annotations

from flask import Flask
from portal_account_helpers import last_sms, post_form, sign_up, verify_face, verify_person
from support.forms import transfer_form
from support.servers import LiveServer
from test_portal_apply import face_and_sign
from test_portal_pages import sign_in

from app.demo import LI_SI
from simulator.data import WANG_FANG


def _draft(login: object) -> str:
    created = login("zhangsan").post("/api/v1/applications",  # type: ignore[operator]
                                     json={"business_type": "transfer_resale", "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    return str(created.get_json()["id"])


def _invite(client: object, case_id: str, phone: str, role: str = "buyer", **more: str) -> object:
    return post_form(client, f"/my/applications/{case_id}/invite",  # type: ignore[arg-type]
                     {"phone": phone, "party_role": role, **more})


def test_the_invited_buyer_signs_in_from_the_sms_link_and_confirms(seeded: Flask, simulator: LiveServer,
                                                                    login: object) -> None:
    case_id = _draft(login)
    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    page = seller.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    assert 'id="invite"' in page and '<option value="buyer">受让方</option>' in page
    assert 'value="seller"' not in page  # one does not invite oneself

    bad = _invite(seller, case_id, "1380000")
    assert bad.status_code == 422 and "手机号码应为11位" in bad.get_data(as_text=True)
    sent = _invite(seller, case_id, LI_SI["phone"])
    assert sent.status_code == 302
    text = last_sms(simulator.url, LI_SI["phone"], template="case_invitation")
    assert text["params"]["role"] == "受让方" and "/invite/" in text["params"]["link"]
    path = "/invite/" + text["params"]["link"].split("/invite/")[1]
    assert "已短信邀请受让方，对方尚未查看" in seller.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    again = _invite(seller, case_id, LI_SI["phone"])
    assert again.status_code == 429 and "刚刚已向该号码发送邀请" in again.get_data(as_text=True)

    buyer = seeded.test_client()
    landing = buyer.get(path)
    assert landing.status_code == 200 and "请先登录" in landing.get_data(as_text=True)
    signed_in = sign_up(buyer, simulator.url, LI_SI["phone"], signup=False, next_path=path)
    assert signed_in.headers["Location"] == path
    opened = buyer.get(path)
    assert opened.status_code == 302 and opened.headers["Location"] == f"/my/applications/{case_id}/edit"
    review = buyer.get(opened.headers["Location"]).get_data(as_text=True)
    assert "确认申请" in review and 'name="pledge"' in review
    face_and_sign(buyer, case_id, typed=LI_SI["name"])  # the confirm step: face check, pledge, signature
    parties = login("zhangsan").get(f"/api/v1/applications/{case_id}").get_json()["parties"]  # type: ignore[operator]
    assert [p["confirmed"] for p in parties if p["role"] == "buyer"] == [True]
    assert "对方已查看" in seller.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    timeline = seller.get(f"/my/applications/{case_id}").get_data(as_text=True)
    assert "已通过短信邀请受让方确认申请" in timeline and LI_SI["phone"] not in timeline


def test_the_link_shows_nothing_to_someone_who_is_not_the_party(seeded: Flask, simulator: LiveServer,
                                                                 login: object) -> None:
    case_id = _draft(login)
    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    _invite(seller, case_id, WANG_FANG["phone"])  # the seller typed the wrong phone
    path = "/invite/" + last_sms(simulator.url, WANG_FANG["phone"], "case_invitation")["params"]["link"].split(
        "/invite/")[1]

    stranger = seeded.test_client()
    sign_up(stranger, simulator.url, WANG_FANG["phone"], next_path=path)
    unverified = stranger.get(path)  # a new account verifies first …
    assert unverified.status_code == 302 and unverified.headers["Location"].startswith("/account/verify")
    verify_person(stranger, WANG_FANG["name"], WANG_FANG["id_number"])
    verify_face(stranger)
    refused = stranger.get(path)  # … and is still not the buyer the application names
    assert refused.status_code == 403 and "与该申请中的当事人不一致" in refused.get_data(as_text=True)
    assert stranger.get(f"/my/applications/{case_id}/edit").status_code == 404

    tampered = seeded.test_client().get(path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"))
    assert tampered.status_code == 404 and "邀请链接无效" in tampered.get_data(as_text=True)


def test_an_applicant_invites_through_the_api_too(seeded: Flask, simulator: LiveServer, login: object) -> None:
    case_id = _draft(login)
    seller = login("zhangsan")  # type: ignore[operator]
    bad = seller.post(f"/api/v1/applications/{case_id}/invitations", json={"phone": "123", "party_role": "buyer"})
    assert bad.status_code == 422 and bad.get_json()["errors"]["phone"] == ["手机号码应为11位"]
    wrong_role = seller.post(f"/api/v1/applications/{case_id}/invitations",
                             json={"phone": LI_SI["phone"], "party_role": "seller"})
    assert wrong_role.status_code == 422 and "party_role" in wrong_role.get_json()["errors"]
    sent = seller.post(f"/api/v1/applications/{case_id}/invitations",
                       json={"phone": LI_SI["phone"], "party_role": "buyer"})
    assert sent.status_code == 201, sent.get_json()
    assert "/invite/" in last_sms(simulator.url, LI_SI["phone"], "case_invitation")["params"]["link"]
    outsider = login("xh_acceptor").post(  # type: ignore[operator]
        f"/api/v1/applications/{case_id}/invitations", json={"phone": LI_SI["phone"], "party_role": "buyer"})
    assert outsider.status_code == 403 and outsider.get_json()["code"] == "not_a_party"


def test_the_steps_submit_page_invites_and_keeps_the_applicant_there(seeded: Flask, simulator: LiveServer,
                                                                     login: object) -> None:
    """The step-by-step flow's last page offers the invitation itself (found: it only linked to the one-page
    view, and the answer landed there, away from the 提交 button): sent or refused, the page stays."""
    case_id = _draft(login)
    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    submit = f"/my/applications/{case_id}/steps/submit"
    page = seller.get(submit).get_data(as_text=True)
    assert 'id="invite"' in page and 'name="return_to" value="steps"' in page
    assert 'href="#invite-phone">待受让方确认申请并签名' in page  # what is left links to the form

    bad = _invite(seller, case_id, "1380000", return_to="steps")
    html = bad.get_data(as_text=True)  # type: ignore[attr-defined]
    assert bad.status_code == 422 and "第 " in html and "提交申请</h1>" in html  # type: ignore[attr-defined]
    assert '<a href="#invite-phone">对方手机号码：手机号码应为11位</a>' in html  # the error summary, linked
    assert 'aria-describedby="invite-phone-error"' in html
    assert f'<form method="post" action="{submit}">' in html  # 提交 still posts to its step, not to /invite
    sent = _invite(seller, case_id, LI_SI["phone"], return_to="steps")
    assert sent.status_code == 302 and sent.headers["Location"] == submit  # type: ignore[attr-defined]
    assert last_sms(simulator.url, LI_SI["phone"], template="case_invitation")["params"]["role"] == "受让方"
    assert "已短信邀请受让方，对方尚未查看" in seller.get(submit).get_data(as_text=True)
