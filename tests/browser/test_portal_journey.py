"""The applicant's journey on a phone (360 px) in Debian's Chromium: a seized unit is refused before the
form; 张三 fills the generated form, uploads from the file picker, fills the contract online, answers the
询问笔录, passes the face check and signs on the pad; submission is refused until 李四, in a second browser,
has also passed the face check and signed (typed name); 张三 submits; clerks move the case on (API); 张三
follows every step; 李四 downloads the 受理通知书, chooses postal delivery, pays on the gateway's page,
downloads the receipt and the certificate and verifies it; the progress lookup works without an account.
Screenshots of each page go to test-artifacts/portal/."""
from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import open_context
from PIL import Image
from playwright.sync_api import expect
from support.cases import take_through
from support.forms import PDF, transfer_form
from support.waiting import wait_for

from app.config import ROOT
from app.identifiers import make_unit_code
from app.registry.models import Certificate
from app.registry.signing import trust_root, validate_certificate_pdf

PHONE = {"width": 360, "height": 780}
SHOTS = ROOT / "test-artifacts" / "portal"


def photo_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 170, 150)).save(out, format="JPEG")
    return out.getvalue()


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def phone(browser: Any, live_server: str) -> Any:
    context = open_context(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    return context.new_page()


def until_the_form_is_made(page: Any, app: Any = None, caplog: pytest.LogCaptureFixture | None = None) -> None:
    """The 申请书 is made right after the last signature's commit, not in its request: reload until the page
    shows it made (生成中 until then). A failure says what the page showed, the case's state and what the app
    logged."""
    def made() -> bool:
        page.reload()
        return "已生成" in page.locator("#material-application_form").inner_text()
    try:
        wait_for(made, "the 申请书 made after the last signature")
    except AssertionError as exc:
        logged = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in (caplog.records if caplog else [])
                  if r.levelno >= logging.WARNING]
        shown = page.locator("#material-application_form").inner_text()
        raise AssertionError(f"{exc}; the page shows {shown!r}; the case: {case_state(app, page.url)}; "
                             f"the app logged {logged}") from exc


def case_state(app: Any, url: str) -> str:
    """What decides whether the 申请书 is due: each party's confirmation against the content, the definition."""
    if app is None:
        return "?"
    from app.casefile import consent
    from app.casefile.access import definition_of
    from app.casefile.models import Case

    if "/my/applications/" not in url:
        return f"no case in {url}"
    case_id = url.split("/my/applications/")[1].split("/")[0]
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        case = session.get(Case, case_id)
        if case is None:
            return f"no case {case_id}"
        definition = definition_of(session, case)
        digest = consent.content_digest(case)
        parties = [(p.role, p.confirmed_at is not None, p.signed_content_sha256 == digest) for p in case.parties]
        generated = [m.code for m in definition.materials if m.generated]
        return (f"due={case.application_form_due} status={case.status} parties(role, confirmed, current)={parties}"
                f" generated={generated} confirm_roles={definition.confirm_roles}"
                f" materials={[m.code for m in case.materials]}")


def draw_signature(page: Any) -> None:
    canvas = page.locator(".signature-pad canvas")
    canvas.scroll_into_view_if_needed()  # mouse events land only inside the viewport
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for x, y in ((0.3, 0.2), (0.5, 0.8), (0.7, 0.3), (0.9, 0.6)):
        page.mouse.move(box["x"] + box["width"] * x, box["y"] + box["height"] * y, steps=5)
    page.mouse.up()


def test_apply_on_a_phone_with_a_co_applicant(browser: Any, live_server: str, sign_in: Any, login: Any,
                                              seeded: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    seller = phone(browser, live_server)
    sign_in(seller, "zhangsan", next_path="/guide/transfer_resale")
    shot(seller, "01-guide")
    assert seller.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scroll
    seller.goto("/apply/transfer_resale")  # the one-page form (the step-by-step pages: test_portal_steps_on_a_phone.py)
    seller.fill("#unit_code", unit(4))
    seller.click("text=核对并继续")
    assert "已被查封" in seller.locator("[role=alert]").inner_text()
    shot(seller, "02-seized-unit-refused")

    seller.fill("#unit_code", unit(1))
    seller.click("text=核对并继续")
    form = transfer_form()
    seller.fill("#f-buyer_name", form["buyer_name"])
    seller.fill("#f-buyer_id_number", "330110199007081234")  # wrong check digit
    seller.fill("#f-price", str(form["price"]))
    seller.fill("#f-contract_no", form["contract_no"])
    shot(seller, "03-form")
    seller.click("text=保存并继续")
    expect(seller.locator(".field.has-error[data-field=buyer_id_number]")).to_have_count(1)
    shot(seller, "04-form-error")
    seller.fill("#f-buyer_id_number", form["buyer_id_number"])
    seller.click("text=保存并继续")
    expect(seller.locator("main")).to_contain_text("草稿已保存")  # waits for the next page, unlike content()
    edit_url = seller.url

    sample = tmp_path / "scan.pdf"
    sample.write_bytes(PDF)
    for row in seller.locator("tr[id^=material-]:has(.badge.bad)").all():
        code = row.get_attribute("id").removeprefix("material-")  # type: ignore[union-attr]
        seller.set_input_files(f"#material-{code} input[type=file]", str(sample))
        seller.click(f"#material-{code} button:has-text('上传')")
        seller.wait_for_load_state("networkidle")
    expect(seller.locator("tr[id^=material-] .badge.warn:has-text('未上传')")).to_have_count(0)
    assert "系统生成" in seller.locator("#material-application_form").inner_text()  # never uploaded (issue 17)
    assert seller.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot(seller, "05-materials")
    seller.click("#attach-contract")  # 网上填写 the contract: generated from the form, attached as material
    expect(seller.locator("body")).to_contain_text("已按申请表生成合同")
    seller.click("text=回答询问")
    for code, answer in (("voluntary", "是"), ("co_owners_agree", "无其他共有人"), ("disputes", "否"),
                         ("price_true", "是")):
        seller.check(f"input[name={code}][value={answer}]")
    seller.fill("textarea[name=remarks]", "无")
    shot(seller, "05b-inquiry")
    seller.click("#inquiry-save")
    expect(seller.locator("body")).to_contain_text("询问笔录已保存")

    photo = tmp_path / "face.jpg"
    photo.write_bytes(photo_jpeg())
    seller.set_input_files("#face-photo", str(photo))  # the phone camera through the file input
    seller.click("#face-submit")
    expect(seller.locator("body")).to_contain_text("人脸核验通过")
    draw_signature(seller)
    seller.check("input[name=pledge]")
    shot(seller, "05c-sign")
    seller.click("#sign-submit")
    expect(seller.locator("body")).to_contain_text("您已签名确认申请")
    expect(seller.locator("img.signature")).to_have_count(1)
    seller.click("#submit-application")  # refused with a clear message until every party has signed
    assert "待受让方确认申请并签名" in seller.locator("[role=alert]").first.inner_text()

    buyer = phone(browser, live_server)
    sign_in(buyer, "lisi", next_path=edit_url.replace(live_server, ""))
    buyer.set_input_files("#face-photo", str(photo))
    buyer.click("#face-submit")
    buyer.fill("#typed-name", "李四")  # the typed-name signature (what works without JavaScript)
    buyer.check("input[name=typed_confirm]")
    buyer.check("input[name=pledge]")
    buyer.click("#sign-submit")
    expect(buyer.locator("main")).to_contain_text("您已签名确认申请")
    shot(buyer, "05d-co-applicant-signed")

    seller.goto(edit_url)
    expect(seller.locator("img.signature")).to_have_count(2)  # check-your-answers shows both signatures
    until_the_form_is_made(seller, seeded, caplog)  # made once both signed
    seller.click("#submit-application")
    expect(seller.locator("main")).to_contain_text("申请已提交，业务号")
    business_no = seller.locator("main p strong").first.inner_text()
    shot(seller, "06-submitted")

    take_through(login, business_no)
    seller.reload()
    timeline = seller.locator("ol.timeline").inner_text()
    for stage in ("受理", "审核", "登簿", "缮证"):
        assert stage in timeline
    expect(seller.locator("a.certificate-link")).to_have_count(0)  # the title is the buyer's, not the seller's
    buyer.goto(seller.url.replace(live_server, ""))
    expect(buyer.locator("a.notice-link")).to_have_count(1)  # 受理通知书
    notice = buyer.context.request.get(f"{live_server}{buyer.locator('a.notice-link').get_attribute('href')}")
    assert notice.ok and notice.body().startswith(b"%PDF")
    assert "契税" in buyer.locator("#taxes").inner_text() and "已完税" in buyer.locator("#taxes").inner_text()
    buyer.check("input[name=method][value=postal]")
    buyer.fill("#delivery-recipient", "李四")
    buyer.fill("#delivery-phone", "13800000002")
    buyer.fill("#delivery-address", "浙江省杭州市西湖区文三路 100 号 3 单元 501 室")
    buyer.click("#delivery-save")
    expect(buyer.locator("body")).to_contain_text("领证方式：邮寄送达")
    shot(buyer, "07a-fees")
    buyer.click("#pay-button")  # to the payment gateway's cashier page (the simulator) …
    buyer.wait_for_selector("#pay")
    assert "80.00" in buyer.locator("#amount").inner_text()
    shot(buyer, "07b-cashier")
    buyer.click("#pay")  # … which calls the platform back (signed) and returns the browser
    buyer.wait_for_url(f"{live_server}/my/applications/**")
    expect(buyer.locator("body")).to_contain_text("缴费成功")
    receipt = buyer.context.request.get(f"{live_server}{buyer.locator('#receipt-link').get_attribute('href')}")
    assert receipt.ok and receipt.body().startswith(b"%PDF")
    shot(buyer, "07c-paid")

    href = buyer.locator("a.certificate-link").first.get_attribute("href")
    pdf = buyer.context.request.get(f"{live_server}{href}")  # with the signed-in browser's cookies
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    office_root = trust_root(seeded.extensions["signing_keys"])
    valid, details = validate_certificate_pdf(pdf.body(), root=office_root)  # the office's signature, checked offline
    assert valid, details
    certificate_id = href.split("/")[-1].removesuffix(".pdf")  # type: ignore[union-attr]
    with seeded.extensions["db"].unit_of_work() as session:
        code = session.get_one(Certificate, certificate_id).verify_code
    buyer.goto(f"/verify/{code}")  # what the QR code on the certificate opens
    expect(buyer.locator("body")).to_contain_text("有效")
    shot(buyer, "07d-verified")
    shot(seller, "07-completed")

    anonymous = phone(browser, live_server)
    anonymous.goto("/track")
    anonymous.fill("#business_no", business_no)
    anonymous.fill("#name", "李四")
    anonymous.fill("#id_number", form["buyer_id_number"])
    anonymous.click("button:has-text('查询')")
    assert "已办结" in anonymous.locator("#track-result").inner_text()
    shot(anonymous, "08-track")
