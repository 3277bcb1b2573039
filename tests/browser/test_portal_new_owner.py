"""Issue 17's acceptance on a 360 px phone in Debian's Chromium: a flat sold by two NEW people, from sign-up to
the certificate. 周杰 — a flat owner 公安 and the register know but who has no account (app/demo.py) — signs up
with the SMS code from the SMS simulator's outbox, passes 实名认证 (公安 + face), chooses 存量房转移 in the hall and
applies through the step-by-step pages (his taps from the hall counted, ≤ 30), invites the buyer 赵敏 — who has
no account either (simulator/data.py) — by SMS from the 提交 page; she follows the link on her own phone, signs
up and verifies from there and is brought back to the application, which she reads with 周杰's particulars
masked, then passes the face check and signs; he submits and watches the timeline in Beijing time while clerks
move the case on through the API; he pays on the gateway's cashier page and downloads the receipt; 赵敏 downloads
the certificate, which verifies offline and at /verify/<code>. Then a 补正 round trip in the portal. (A wrong
SMS code and a bad ID number are in test_portal_signup.py, the seized unit in test_portal_journey.py.)
Screenshots: test-artifacts/sale/ (seller), test-artifacts/sale-buyer/, test-artifacts/portal/c…."""
from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from phone_taps import MAX_TAPS, PHONE, Tapper, phone_page, progress
from playwright.sync_api import expect
from support.cases import complete_stage, take_through
from support.forms import PDF, scan_jpeg
from support.personas import STAFF
from support.servers import LiveServer
from test_portal_journey import phone, photo_jpeg, shot, unit
from test_portal_signup import no_sideways_scroll, sms_code

from app.config import ROOT
from app.demo import ZHOU_JIE, ZHOU_JIE_UNIT
from app.registry.models import Certificate
from app.registry.signing import trust_root, validate_certificate_pdf
from simulator.data import ZHAO_MIN, build_world

SHOTS = ROOT / "test-artifacts" / "sale"
BEIJING = ZoneInfo("Asia/Shanghai")


def the_contract() -> dict[str, Any]:
    """The simulator's filed 网签 contract for 周杰's flat: the form must agree with it for 住建 to verify."""
    return next(c for c in build_world().contracts.values()
                if c["unit_code"] == unit(ZHOU_JIE_UNIT) and c["seller"]["id_number"] == ZHOU_JIE["id_number"])


def invitation_link(simulator: LiveServer, phone_no: str) -> str:
    with urllib.request.urlopen(f"{simulator.url}/sms/outbox", timeout=5) as resp:
        items = json.loads(resp.read())["items"]
    text = next(m for m in items if m["template"] == "case_invitation" and m["phone"] == phone_no)
    return "/invite/" + str(text["params"]["link"]).split("/invite/")[1]


def sign_up_and_verify(me: Tapper, simulator: LiveServer, who: dict[str, str], photo: Path) -> None:
    """注册 (phone, 用户须知, the SMS code) then 实名认证 (公安: name + ID number; then a face photo), from the page
    the person is on: the header's 注册 for 周杰, the invitation's 注册新账户 for 赵敏."""
    page = me.page
    page.fill("#phone", who["phone"])
    me.tick("input[name=terms]")
    me.tap("button:has-text('获取验证码')")
    expect(page.locator("#code-sent")).to_contain_text("验证码已发送")
    me.seen("signup-code-sent")
    page.fill("#code", sms_code(simulator, who["phone"]))
    me.tap("button:has-text('注册并登录')")
    page.wait_for_url("**/account/verify**")
    page.fill("#real_name", who["name"])
    page.fill("#id_number", who["id_number"])
    me.seen("real-name")
    me.tap("button:has-text('下一步')")  # 公安: name and ID number agree
    page.wait_for_url("**/account/verify/face**")
    me.seen("face")
    me.choose_file("#photo", photo)
    me.tap("button:has-text('提交核验')")
    expect(page.locator(".flash").first).to_contain_text("实名认证成功")


def beijing_minutes(shown: str) -> float:
    """How far a time the page shows (2026-03-01 14:05) is from now on a Beijing clock, in minutes."""
    at = datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)
    return abs((datetime.now(BEIJING) - at) / timedelta(minutes=1))


def test_two_new_people_sell_and_buy_a_flat_on_their_phones(
        browser: Any, live_server: str, simulator: LiveServer, login: Any, seeded: Any, tmp_path: Path) -> None:
    photo, scan = tmp_path / "face.jpg", tmp_path / "scan.jpg"
    photo.write_bytes(photo_jpeg())
    scan.write_bytes(scan_jpeg())
    contract = the_contract()
    assert contract["buyer"] == {"name": ZHAO_MIN["name"], "id_number": ZHAO_MIN["id_number"]}

    page = phone_page(browser, live_server)
    seller = Tapper(page, SHOTS)
    page.goto("/")
    seller.tap("header >> text=注册")
    sign_up_and_verify(seller, simulator, ZHOU_JIE, photo)
    sign_up_taps = seller.taps

    expect(page.locator("main a[href='/guide/transfer_resale']")).to_be_visible()  # back in the hall
    seller.seen("hall")
    seller.tap("main a[href='/guide/transfer_resale']")
    seller.seen("guide")
    seller.tap("main a:has-text('在线申请')")

    expect(page.locator("h1")).to_have_text("要办理哪一处不动产？")
    seller.seen("unit")
    seller.tap(f"a[href*='unit_code={unit(ZHOU_JIE_UNIT)}']")  # his flat, found by his verified ID number

    expect(page.locator("h1")).to_have_text("各方")
    seller.seen("parties")
    assert page.locator("#f-seller_name").input_value() == ZHOU_JIE["name"]  # from 实名认证
    page.fill("#f-buyer_name", ZHAO_MIN["name"])
    page.click("#step-next")  # (a detour, not counted) the buyer's ID number is missing
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a[href='#f-buyer_id_number']")).to_be_visible()
    assert summary.bounding_box()["y"] < PHONE["height"]  # at the top, on screen
    assert page.locator("#f-buyer_name").input_value() == ZHAO_MIN["name"]  # nothing typed is lost
    seller.seen("parties-error")
    page.fill("#f-buyer_id_number", ZHAO_MIN["id_number"])
    seller.tap("#step-next")

    expect(page.locator("h1")).to_have_text("申请信息")
    page.fill("#f-price", str(int(float(contract["price"]))))
    page.fill("#f-contract_no", contract["contract_no"])
    seller.seen("info")
    seller.tap("#step-next")

    while "/material-" in page.url:
        n, total = progress(page)
        seller.seen(f"material-{n}")
        seller.choose_file("#file", scan)
        seller.tap("#upload")
        expect(page.locator("#step-count")).to_have_text(f"第 {n + 1} 步，共 {total} 步")

    expect(page.locator("h1")).to_have_text("存量房买卖合同")
    seller.seen("contract")
    seller.tap("#attach-contract")

    expect(page.locator("h1")).to_have_text("询问笔录")
    for code, answer in (("voluntary", "是"), ("co_owners_agree", "无其他共有人"), ("disputes", "否"),
                         ("price_true", "是")):
        seller.tick(f"input[name={code}][value={answer}]")
    page.fill("textarea[name=remarks]", "无")
    seller.seen("inquiry")
    seller.tap("#inquiry-save")

    expect(page.locator("h1")).to_have_text("核对申请信息")
    expect(page.locator("main")).to_contain_text(ZHAO_MIN["name"])
    seller.seen("check")
    seller.tap("#step-next")

    expect(page.locator("h1")).to_have_text("人脸核验")
    seller.seen("face-check")
    seller.choose_file("#face-photo", photo)
    seller.tap("#face-submit")

    expect(page.locator("h1")).to_have_text("签名确认")
    seller.seen("sign")
    seller.sign()
    seller.tick("#pledge")
    seller.tap("#sign-submit")

    expect(page.locator("h1")).to_have_text("提交申请")
    expect(page.locator("#still-to-do")).to_contain_text("待受让方确认申请并签名")
    seller.seen("submit-waiting")
    page.fill("#invite-phone", ZHAO_MIN["phone"])  # the buyer's phone, right where it is asked for
    seller.tap("#invite button[type=submit]")
    expect(page.locator(".flash").first).to_contain_text("邀请短信已发送")
    expect(page.locator("h1")).to_have_text("提交申请")  # still on the flow's last page
    expect(page.locator("#invitations")).to_contain_text("已短信邀请受让方，对方尚未查看")
    seller.seen("invited")
    case_path = page.url.replace(live_server, "").rsplit("/steps/", 1)[0]

    buyer_page = phone_page(browser, live_server)  # 赵敏's own phone: the link in her SMS
    buyer = Tapper(buyer_page, ROOT / "test-artifacts" / "sale-buyer")
    buyer_page.goto(invitation_link(simulator, ZHAO_MIN["phone"]))
    buyer.seen("invitation")
    buyer.tap("main >> text=注册新账户")
    sign_up_and_verify(buyer, simulator, ZHAO_MIN, photo)
    buyer_page.wait_for_url(f"**{case_path}/edit*")  # the link survived sign-up and 实名认证
    expect(buyer_page.locator("#read-only")).to_be_visible()  # a co-applicant reads, the creator edits
    main = buyer_page.locator("main")
    expect(main).to_contain_text(ZHOU_JIE["name"][0] + "*")  # the seller masked …
    expect(main).not_to_contain_text(ZHOU_JIE["id_number"])
    expect(main).not_to_contain_text(ZHOU_JIE["name"])
    expect(main).to_contain_text(ZHAO_MIN["id_number"])  # … her own particulars whole
    editing = "main form[action$='/form'], main input[type=file]:not(#face-photo)"  # the form, material uploads
    expect(buyer_page.locator(editing)).to_have_count(0)
    buyer.seen("read-only")
    buyer.choose_file("#face-photo", photo)
    buyer.tap("#face-submit")
    expect(buyer_page.locator("body")).to_contain_text("人脸核验通过")
    buyer.sign()
    buyer.tick("input[name=pledge]")
    buyer.tap("#sign-submit")
    expect(main).to_contain_text("您已签名确认申请")
    buyer.seen("signed")

    seller.taps += 1  # he opens the page again (the SMS or 我的申请)
    page.reload()
    expect(page.locator("#still-to-do")).to_have_count(0)
    expect(page.locator("#invitations")).to_contain_text("对方已查看")
    seller.tap("#submit-application")
    expect(page.locator("main")).to_contain_text("申请已提交，业务号")
    seller.seen("submitted")
    hall_taps = seller.taps - sign_up_taps
    print(f"seller: {hall_taps} taps from the hall, {seller.taps} with sign-up; buyer: {buyer.taps} taps")
    assert hall_taps <= MAX_TAPS, hall_taps
    business_no = page.locator("main p strong").first.inner_text()
    case_url = page.url
    for shown in page.locator("ol.timeline time").all_inner_texts():  # Beijing time, as it happened
        assert beijing_minutes(shown) < 10, (shown, datetime.now(BEIJING))

    for stage in ("受理", "审核", "登簿", "缮证"):  # 登簿 waits for 税务's 完税 callback
        assert f"{stage}：" not in page.locator("ol.timeline").inner_text()  # e.g. "受理：予以受理"
        resp = complete_stage(login(STAFF[stage]), business_no, stage)
        assert resp.status_code == 200, resp.get_json()
        page.reload()
        expect(page.locator("ol.timeline")).to_contain_text(f"{stage}：")  # the step appears as it happens
        seller.seen(f"timeline-{stage}")
    expect(page.locator("#case-status")).to_contain_text("已办结")
    latest = page.locator("ol.timeline li", has_text="缮证：").locator("time").first.inner_text()
    assert beijing_minutes(latest) < 10, (latest, datetime.now(BEIJING))

    page.click("#pay-button")  # to the payment gateway's cashier page (the simulator) …
    page.wait_for_selector("#pay")
    assert "80.00" in page.locator("#amount").inner_text()
    seller.seen("cashier")
    page.click("#pay")  # … which calls the platform back (signed) and returns the browser
    page.wait_for_url(f"{case_url}*")
    expect(page.locator("body")).to_contain_text("缴费成功")
    receipt = page.context.request.get(f"{live_server}{page.locator('#receipt-link').get_attribute('href')}")
    assert receipt.ok and receipt.body().startswith(b"%PDF")
    seller.seen("paid")

    buyer_page.goto(case_url)  # the new title is the buyer's
    href = buyer_page.locator("a.certificate-link").first.get_attribute("href")
    pdf = buyer_page.context.request.get(f"{live_server}{href}")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    valid, details = validate_certificate_pdf(pdf.body(), root=trust_root(seeded.extensions["signing_keys"]))
    assert valid, details
    buyer.seen("certificate")
    certificate_id = href.split("/")[-1].removesuffix(".pdf")  # type: ignore[union-attr]
    with seeded.extensions["db"].unit_of_work() as session:
        code = session.get_one(Certificate, certificate_id).verify_code
    buyer_page.goto(f"/verify/{code}")
    expect(buyer_page.locator("body")).to_contain_text("有效")
    buyer.seen("verified")
    no_sideways_scroll(buyer_page)


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
    expect(page.locator("#material-title_certificate .badge.ok:has-text('已上传')")).to_have_count(1)
    shot(page, "c02-material-replaced")
    expect(page.locator("#content-changed")).to_contain_text("上传材料：不动产权证书")  # signatures voided
    for username in ("zhangsan", "lisi"):  # both sign the corrected application again (account signature)
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    page.click("#submit-application:has-text('补正后重新提交')")
    expect(page.locator(".flash").first).to_contain_text("补正材料已提交")
    expect(page.locator("ol.timeline")).to_contain_text("申请人已补正并重新提交")
    expect(page.locator("main .flash.warning[role=status]")).to_have_count(0)  # nothing left to fix
    shot(page, "c03-resubmitted")
    no_sideways_scroll(page)
    take_through(login, business_no, ("受理", "审核"))
