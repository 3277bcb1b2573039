"""Signing up on a phone (360 px) in Debian's Chromium: phone + SMS code read from the SMS simulator (a wrong
code first, which shows its message), 用户须知, 实名认证 with a bad ID number first, then the face check with the
in-page camera (Chromium's fake camera), landing on the portal; then the invitation journey: the new user
invites a co-applicant whose browser signs in from the SMS link and confirms. Screenshots go to
test-artifacts/portal/."""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from browser_fixtures import CHROMIUM, CHROMIUM_ARGS, open_context
from playwright.sync_api import expect
from support.servers import LiveServer
from test_portal_journey import PHONE, shot

from simulator.data import ZHAO_MIN

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def camera_browser(browser: Any) -> Iterator[Any]:
    """A second Chromium (same Playwright) with a fake camera the page may use without a permission prompt."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + CAMERA_ARGS, headless=True)
    yield chromium
    chromium.close()


def sms_code(simulator: LiveServer, phone: str) -> str:
    with urllib.request.urlopen(f"{simulator.url}/sms/outbox", timeout=5) as resp:
        items = json.loads(resp.read())["items"]
    return next(m["params"]["code"] for m in items if m["phone"] == phone and m["template"] == "verify_code")


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_sign_up_by_sms_code_verify_identity_and_face_on_a_phone(camera_browser: Any, live_server: str,
                                                                  simulator: LiveServer) -> None:
    context = open_context(camera_browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True,
                           permissions=["camera"])
    page = context.new_page()
    page.goto("/")
    page.click("header >> text=注册")
    page.fill("#phone", ZHAO_MIN["phone"])
    page.click("button:has-text('获取验证码')")
    assert "请阅读并同意《用户须知》" in page.locator("[data-field=terms] [role=alert]").inner_text()
    page.check("input[name=terms]")
    page.click("button:has-text('获取验证码')")
    assert "验证码已发送至 138****0004" in page.locator("#code-sent").inner_text()
    shot(page, "10-signup-code-sent")
    no_sideways_scroll(page)

    right = sms_code(simulator, ZHAO_MIN["phone"])
    page.fill("#code", "000000" if right != "000000" else "111111")
    page.click("button:has-text('注册并登录')")
    assert "验证码错误，还可尝试 4 次" in page.locator("[data-field=code] [role=alert]").inner_text()
    shot(page, "11-signup-wrong-code")
    page.fill("#code", right)
    page.click("button:has-text('注册并登录')")
    page.wait_for_url("**/account/verify**")
    shot(page, "12-real-name")

    page.fill("#real_name", ZHAO_MIN["name"])
    bad = ZHAO_MIN["id_number"][:17] + ("0" if ZHAO_MIN["id_number"][17] != "0" else "1")
    page.fill("#id_number", bad)
    page.click("button:has-text('下一步')")
    assert "身份证号校验位错误" in page.locator("[data-field=id_number] [role=alert]").inner_text()
    shot(page, "13-real-name-bad-id")
    page.fill("#id_number", ZHAO_MIN["id_number"])
    page.click("button:has-text('下一步')")
    page.wait_for_url("**/account/verify/face**")

    page.click("text=使用摄像头拍照")  # progressive enhancement: the in-page camera
    page.wait_for_function("() => document.getElementById('camera-video').videoWidth > 0")
    page.click("#camera-shoot")
    page.wait_for_selector("#camera-preview:not([hidden])")
    assert page.evaluate("document.getElementById('photo').files.length") == 1
    shot(page, "14-face-captured")
    page.click("button:has-text('提交核验')")
    page.wait_for_url(f"{live_server}/")
    assert "实名认证成功" in page.locator(".flash").first.inner_text()
    expect(page.locator("header a:has-text('我的申请')")).to_have_count(1)
    shot(page, "15-landed-on-portal")
    no_sideways_scroll(page)
    context.close()


def test_a_face_photo_from_the_file_input_works_without_javascript(browser: Any, live_server: str,
                                                                    simulator: LiveServer, tmp_path: Any) -> None:
    context = open_context(browser, live_server, viewport=PHONE, is_mobile=True, java_script_enabled=False)
    page = context.new_page()
    page.goto("/signup")
    page.fill("#phone", ZHAO_MIN["phone"])
    page.check("input[name=terms]")
    page.click("button:has-text('获取验证码')")
    page.fill("#code", sms_code(simulator, ZHAO_MIN["phone"]))
    page.click("button:has-text('注册并登录')")
    page.fill("#real_name", ZHAO_MIN["name"])
    page.fill("#id_number", ZHAO_MIN["id_number"])
    page.click("button:has-text('下一步')")
    assert page.locator("#camera-open").is_hidden() and page.get_attribute("#photo", "capture") == "user"
    photo = tmp_path / "face.jpg"
    photo.write_bytes(JPEG)
    page.set_input_files("#photo", str(photo))
    page.click("button:has-text('提交核验')")
    expect(page.locator("main")).to_contain_text("实名认证成功")
    context.close()


def test_the_co_applicant_confirms_from_the_invitation_sms_in_a_second_browser(
        browser: Any, live_server: str, simulator: LiveServer, sign_in: Any, login: Any, tmp_path: Any) -> None:
    from support.forms import transfer_form
    from test_portal_journey import photo_jpeg

    from app.demo import LI_SI

    created = login("zhangsan").post("/api/v1/applications",
                                     json={"business_type": "transfer_resale", "form": transfer_form()})
    case_id = created.get_json()["id"]
    seller = phone_page(browser, live_server)
    sign_in(seller, "zhangsan", next_path=f"/my/applications/{case_id}/edit")
    seller.fill("#invite-phone", LI_SI["phone"])
    seller.click("button:has-text('发送邀请短信')")
    assert "邀请短信已发送" in seller.locator(".flash").first.inner_text()
    shot(seller, "16-invitation-sent")
    with urllib.request.urlopen(f"{simulator.url}/sms/outbox", timeout=5) as resp:
        text = next(m for m in json.loads(resp.read())["items"] if m["template"] == "case_invitation")
    assert text["phone"] == LI_SI["phone"]

    buyer = phone_page(browser, live_server)
    buyer.goto("/invite/" + text["params"]["link"].split("/invite/")[1])
    shot(buyer, "17-invitation-landing")
    buyer.click("main >> text=验证码登录")
    buyer.fill("#phone", LI_SI["phone"])
    buyer.click("button:has-text('获取验证码')")
    buyer.fill("#code", sms_code(simulator, LI_SI["phone"]))
    buyer.click("button:has-text('登录')")
    buyer.wait_for_url(f"**/my/applications/{case_id}/edit")
    assert "请核对申请内容" in buyer.locator("main").inner_text()
    shot(buyer, "18-invitee-reviews")
    photo = tmp_path / "face.jpg"
    photo.write_bytes(photo_jpeg())
    buyer.set_input_files("#face-photo", str(photo))  # the confirm step: face check, pledge, signature
    buyer.click("#face-submit")
    buyer.fill("#typed-name", LI_SI["name"])
    buyer.check("input[name=typed_confirm]")
    buyer.check("input[name=pledge]")
    buyer.click("#sign-submit")
    expect(buyer.locator("main")).to_contain_text("您已签名确认申请")
    no_sideways_scroll(buyer)


def phone_page(browser: Any, live_server: str) -> Any:
    context = open_context(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    return context.new_page()
