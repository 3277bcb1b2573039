"""Issue 5's acceptance on a phone (360 px) in Debian's Chromium, from a brand-new account: 周杰 — a flat owner
公安 and the register know but who has no account (app/demo.py) — signs up with the SMS code from the SMS
simulator's outbox, passes 实名认证 (公安 + face), applies to sell his flat to 李四, invites her by SMS; she
confirms in a second browser (face check + signature); he uploads, answers the 询问笔录, signs and submits;
clerks move the case on through the API while he watches each step appear on the timeline; he pays on the
gateway's cashier page and downloads the receipt; 李四 downloads the certificate, which verifies offline and
at /verify/<code>. Then a 补正 round trip in the portal. (A wrong SMS code and a bad ID number are in
test_portal_signup.py, the seized unit in test_portal_journey.py.) Screenshots: test-artifacts/portal/a…/c…."""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from support.cases import complete_stage, take_through
from support.forms import PDF
from support.personas import STAFF
from support.servers import LiveServer
from test_portal_journey import draw_signature, phone, photo_jpeg, shot, unit
from test_portal_signup import no_sideways_scroll, sms_code

from app.demo import LI_SI, ZHOU_JIE, ZHOU_JIE_UNIT
from app.registry.models import Certificate
from app.registry.signing import trust_root, validate_certificate_pdf
from simulator.data import build_world


def the_contract() -> dict[str, Any]:
    """The simulator's filed 网签 contract for 周杰's flat: the form must agree with it for 住建 to verify."""
    return next(c for c in build_world().contracts.values()
                if c["unit_code"] == unit(ZHOU_JIE_UNIT) and c["seller"]["id_number"] == ZHOU_JIE["id_number"])


def invitation_link(simulator: LiveServer, phone_no: str) -> str:
    with urllib.request.urlopen(f"{simulator.url}/sms/outbox", timeout=5) as resp:
        items = json.loads(resp.read())["items"]
    text = next(m for m in items if m["template"] == "case_invitation" and m["phone"] == phone_no)
    return "/invite/" + str(text["params"]["link"]).split("/invite/")[1]


def sign_up_and_verify(page: Any, simulator: LiveServer, photo: Path) -> None:
    page.goto("/")
    page.click("header >> text=注册")
    page.fill("#phone", ZHOU_JIE["phone"])
    page.check("input[name=terms]")
    page.click("button:has-text('获取验证码')")
    expect(page.locator("#code-sent")).to_contain_text("验证码已发送")
    shot(page, "a01-signup-code-sent")
    page.fill("#code", sms_code(simulator, ZHOU_JIE["phone"]))
    page.click("button:has-text('注册并登录')")
    page.wait_for_url("**/account/verify**")
    page.fill("#real_name", ZHOU_JIE["name"])
    page.fill("#id_number", ZHOU_JIE["id_number"])
    shot(page, "a02-real-name")
    page.click("button:has-text('下一步')")  # 公安: name and ID number agree
    page.wait_for_url("**/account/verify/face**")
    page.set_input_files("#photo", str(photo))
    shot(page, "a03-face")
    page.click("button:has-text('提交核验')")
    expect(page.locator(".flash").first).to_contain_text("实名认证成功")
    shot(page, "a04-verified")


def test_a_new_owner_signs_up_sells_his_flat_and_the_buyer_gets_the_certificate(
        browser: Any, live_server: str, simulator: LiveServer, sign_in: Any, login: Any, seeded: Any,
        tmp_path: Path) -> None:
    photo = tmp_path / "face.jpg"
    photo.write_bytes(photo_jpeg())
    sample = tmp_path / "scan.pdf"
    sample.write_bytes(PDF)
    contract = the_contract()

    seller = phone(browser, live_server)
    sign_up_and_verify(seller, simulator, photo)
    seller.goto("/guide/transfer_resale")
    seller.goto("/apply/transfer_resale")  # the one-page form (the step-by-step pages: test_portal_steps_on_a_phone.py)
    seller.fill("#unit_code", unit(ZHOU_JIE_UNIT))
    seller.click("text=核对并继续")  # the register: 周杰 holds it, no seizure
    assert seller.locator("#f-seller_name").input_value() == ZHOU_JIE["name"]  # pre-filled from 实名认证
    seller.fill("#f-buyer_name", LI_SI["name"])
    seller.fill("#f-buyer_id_number", LI_SI["id_number"])
    seller.fill("#f-price", str(int(float(contract["price"]))))
    seller.fill("#f-contract_no", contract["contract_no"])
    shot(seller, "a05-form")
    seller.click("text=保存并继续")
    expect(seller.locator("main")).to_contain_text("草稿已保存")
    edit_url = seller.url

    seller.fill("#invite-phone", LI_SI["phone"])
    seller.click("button:has-text('发送邀请短信')")
    expect(seller.locator(".flash").first).to_contain_text("邀请短信已发送")
    shot(seller, "a06-invited")

    for row in seller.locator("tr[id^=material-]:has(.badge.bad)").all():
        code = row.get_attribute("id").removeprefix("material-")  # type: ignore[union-attr]
        seller.set_input_files(f"#material-{code} input[type=file]", str(sample))
        seller.click(f"#material-{code} button:has-text('上传')")
        expect(seller.locator(".flash").first).to_contain_text("材料已上传")
    assert seller.locator("tr[id^=material-] .badge.warn:has-text('未上传')").count() == 0
    no_sideways_scroll(seller)
    shot(seller, "a07-materials")
    seller.click("text=回答询问")
    for code, answer in (("voluntary", "是"), ("co_owners_agree", "无其他共有人"), ("disputes", "否"),
                         ("price_true", "是")):
        seller.check(f"input[name={code}][value={answer}]")
    seller.fill("textarea[name=remarks]", "无")
    shot(seller, "a08-inquiry")
    seller.click("#inquiry-save")
    expect(seller.locator("body")).to_contain_text("询问笔录已保存")
    seller.set_input_files("#face-photo", str(photo))
    seller.click("#face-submit")
    expect(seller.locator("body")).to_contain_text("人脸核验通过")
    draw_signature(seller)
    seller.check("input[name=pledge]")
    seller.click("#sign-submit")
    expect(seller.locator("main")).to_contain_text("您已签名确认申请")
    shot(seller, "a09-signed")

    buyer = phone(browser, live_server)  # a second browser context: 李四 follows the SMS link
    sign_in(buyer, "lisi", next_path=invitation_link(simulator, LI_SI["phone"]))
    buyer.wait_for_url(f"{edit_url}*")
    expect(buyer.locator("main")).to_contain_text(ZHOU_JIE["name"][0] + "*")  # a co-applicant: seller masked
    expect(buyer.locator("main")).not_to_contain_text(ZHOU_JIE["id_number"])
    buyer.set_input_files("#face-photo", str(photo))
    buyer.click("#face-submit")
    expect(buyer.locator("body")).to_contain_text("人脸核验通过")
    draw_signature(buyer)
    buyer.check("input[name=pledge]")
    buyer.click("#sign-submit")
    expect(buyer.locator("main")).to_contain_text("您已签名确认申请")
    shot(buyer, "a10-co-applicant-signed")

    seller.goto(edit_url)
    assert seller.locator("img.signature").count() == 2
    seller.click("#submit-application")
    expect(seller.locator("main")).to_contain_text("申请已提交，业务号")
    business_no = seller.locator("main p strong").first.inner_text()
    case_url = seller.url
    shot(seller, "a11-submitted")

    for n, stage in enumerate(("受理", "审核", "登簿", "缮证"), start=12):  # 登簿 waits for 税务's 完税 callback
        assert f"{stage}：" not in seller.locator("ol.timeline").inner_text()  # e.g. "受理：予以受理"
        resp = complete_stage(login(STAFF[stage]), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
        seller.reload()
        expect(seller.locator("ol.timeline")).to_contain_text(f"{stage}：")  # the step appears as it happens
        shot(seller, f"a{n}-timeline-{stage}")
    expect(seller.locator("#case-status")).to_contain_text("已办结")

    seller.click("#pay-button")  # to the payment gateway's cashier page (the simulator) …
    seller.wait_for_selector("#pay")
    assert "80.00" in seller.locator("#amount").inner_text()
    shot(seller, "a16-cashier")
    seller.click("#pay")  # … which calls the platform back (signed) and returns the browser
    seller.wait_for_url(f"{case_url}*")
    expect(seller.locator("body")).to_contain_text("缴费成功")
    receipt = seller.context.request.get(f"{live_server}{seller.locator('#receipt-link').get_attribute('href')}")
    assert receipt.ok and receipt.body().startswith(b"%PDF")
    shot(seller, "a17-paid")

    buyer.goto(case_url)  # the new title is the buyer's
    href = buyer.locator("a.certificate-link").first.get_attribute("href")
    pdf = buyer.context.request.get(f"{live_server}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    valid, details = validate_certificate_pdf(pdf.body(), root=trust_root(seeded.extensions["signing_keys"]))
    assert valid, details
    certificate_id = href.split("/")[-1].removesuffix(".pdf")  # type: ignore[union-attr]
    with seeded.extensions["db"].unit_of_work() as session:
        code = session.get_one(Certificate, certificate_id).verify_code
    seller.goto(f"/verify/{code}")
    expect(seller.locator("body")).to_contain_text("有效")
    shot(seller, "a18-verified")
    no_sideways_scroll(seller)


def test_a_correction_round_trip_in_the_portal(browser: Any, live_server: str, sign_in: Any, login: Any,
                                               submitted_transfer: dict[str, Any], tmp_path: Path) -> None:
    """审核 asks for 补正 (API); 张三 sees what to fix on his phone, replaces the material and resubmits; the
    case is accepted again (补正后重新受理) and 审核 can then approve it."""
    business_no, case_id = submitted_transfer["business_no"], submitted_transfer["id"]
    assert complete_stage(login(STAFF["受理"]), business_no, "受理").status_code == 200
    fix = "不动产权证书扫描件不清晰，请重新上传"
    asked = complete_stage(login(STAFF["审核"]), business_no, "审核", "correct", correction_items=[fix])
    assert asked.get_json()["case_status"] == "correcting", asked.get_json()

    page = phone(browser, live_server)
    sign_in(page, "zhangsan", next_path=f"/my/applications/{case_id}")
    expect(page.locator("main .flash.warning[role=status]")).to_contain_text(f"需补正：{fix}")
    expect(page.locator("#case-status")).to_contain_text("待补正")
    shot(page, "c01-correction-notice")
    notice = page.locator("li:has-text('补正材料通知书') a.notice-link")
    pdf = page.context.request.get(f"{live_server}{notice.get_attribute('href')}")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.click("main >> text=去补正")
    expect(page.locator("main .flash.warning[role=status]")).to_contain_text(fix)  # the notice stays beside the work
    row = page.locator("#material-title_certificate")
    row.locator("button:has-text('删除')").click()
    expect(page.locator(".flash").first).to_contain_text("材料已删除")
    clearer = tmp_path / "title-clear.pdf"
    clearer.write_bytes(PDF.replace(b"<<>>", b"<</Title(clear)>>", 1))
    page.set_input_files("#material-title_certificate input[type=file]", str(clearer))
    page.click("#material-title_certificate button:has-text('上传')")
    expect(page.locator(".flash").first).to_contain_text("材料已上传")
    assert page.locator("#material-title_certificate .badge.ok:has-text('已上传')").count() == 1
    shot(page, "c02-material-replaced")
    expect(page.locator("#content-changed")).to_contain_text("上传材料：不动产权证书")  # signatures voided
    for username in ("zhangsan", "lisi"):  # both sign the corrected application again (account signature)
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    page.click("#submit-application:has-text('补正后重新提交')")
    expect(page.locator(".flash").first).to_contain_text("补正材料已提交")
    expect(page.locator("ol.timeline")).to_contain_text("申请人已补正并重新提交")
    assert page.locator("main .flash.warning[role=status]").count() == 0  # nothing left to fix
    shot(page, "c03-resubmitted")
    no_sideways_scroll(page)
    take_through(login, business_no, ("受理", "审核"))
