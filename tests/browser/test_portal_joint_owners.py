"""Issue 13 §2 on a phone (360 px) in Debian's Chromium: 吴昊 and 孙悦 hold their flat jointly (共同共有, the
demo register). 吴昊 applies to sell it to 李四; the register — not he — names 孙悦 as the second 转让方. He
signs on his phone; submission is refused while 孙悦 has not signed; she signs on her own phone (a second
browser context); 李四 confirms through the API; 吴昊 submits. Screenshots: test-artifacts/portal/j….png."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from support.forms import PDF
from test_portal_journey import draw_signature, phone, photo_jpeg, shot
from test_portal_signup import no_sideways_scroll

from app.demo import JOINT_UNIT, LI_SI
from app.identifiers import make_unit_code

JOINT = make_unit_code("330106", 1, 1, "GB", 100 + (JOINT_UNIT - 1) // 8, 1 + (JOINT_UNIT - 1) // 8,
                       100 + JOINT_UNIT)


def face_and_sign(page: Any, photo: Path) -> None:
    page.set_input_files("#face-photo", str(photo))
    page.click("#face-submit")
    expect(page.locator("body")).to_contain_text("人脸核验通过")
    draw_signature(page)
    page.check("input[name=pledge]")
    page.click("#sign-submit")
    expect(page.locator("main")).to_contain_text("您已签名确认申请")


def test_two_joint_owners_sell_together_each_signing_on_his_own_phone(
        browser: Any, live_server: str, sign_in: Any, login: Any, tmp_path: Path) -> None:
    photo, sample = tmp_path / "face.jpg", tmp_path / "scan.pdf"
    photo.write_bytes(photo_jpeg())
    sample.write_bytes(PDF)

    wu = phone(browser, live_server)
    sign_in(wu, "wuhao", next_path="/guide/transfer_resale")
    wu.goto("/apply/transfer_resale")  # the one-page form (the step-by-step pages: test_portal_steps_on_a_phone.py)
    wu.fill("#unit_code", JOINT)
    wu.click("text=核对并继续")
    wu.fill("#f-buyer_name", LI_SI["name"])
    wu.fill("#f-buyer_id_number", LI_SI["id_number"])
    wu.fill("#f-price", str(1_800_000 + JOINT_UNIT * 25_000))
    wu.fill("#f-contract_no", f"WQ2026-{JOINT_UNIT:06d}")
    wu.click("text=保存并继续")
    expect(wu.locator("main")).to_contain_text("草稿已保存")
    edit_url = wu.url
    case_id = edit_url.split("/my/applications/")[1].split("/")[0]
    signers = wu.locator("ul.signers")
    expect(signers).to_contain_text("转让方：吴昊")
    expect(signers).to_contain_text("转让方：孙悦")  # from the register: nobody typed her in
    shot(wu, "j01-joint-owners-listed")

    for row in wu.locator("tr[id^=material-]:has(.badge.bad)").all():
        code = row.get_attribute("id").removeprefix("material-")  # type: ignore[union-attr]
        wu.set_input_files(f"#material-{code} input[type=file]", str(sample))
        wu.click(f"#material-{code} button:has-text('上传')")
        expect(wu.locator(".flash").first).to_contain_text("材料已上传")
    wu.click("text=回答询问")
    for code, answer in (("voluntary", "是"), ("co_owners_agree", "无其他共有人"), ("disputes", "否"),
                         ("price_true", "是")):
        wu.check(f"input[name={code}][value={answer}]")
    wu.fill("textarea[name=remarks]", "无")
    wu.click("#inquiry-save")
    expect(wu.locator("body")).to_contain_text("询问笔录已保存")
    face_and_sign(wu, photo)
    assert login("lisi").post(f"/api/v1/applications/{case_id}/confirm").status_code == 200

    wu.click("#submit-application")  # 孙悦 has not signed: 共同共有 needs every joint owner
    alert = wu.locator("[role=alert]").first
    expect(alert).to_contain_text("待转让方（孙*）确认申请并签名")
    expect(alert).to_contain_text("共同共有")
    shot(wu, "j02-refused-until-both-sign")

    sun = phone(browser, live_server)  # her own phone
    sign_in(sun, "sunyue", next_path="/my/applications")
    expect(sun.locator(f"main a[href*='{case_id}']").first).to_be_visible()  # her list has it: she is a party
    sun.goto(f"/my/applications/{case_id}/edit")
    expect(sun.locator("main")).to_contain_text("转让方：孙悦")
    face_and_sign(sun, photo)
    shot(sun, "j03-second-owner-signed")
    no_sideways_scroll(sun)

    wu.goto(edit_url)
    expect(wu.locator("img.signature")).to_have_count(2)
    wu.click("#submit-application")
    expect(wu.locator("main")).to_contain_text("申请已提交，业务号")
    shot(wu, "j04-submitted")
    no_sideways_scroll(wu)
