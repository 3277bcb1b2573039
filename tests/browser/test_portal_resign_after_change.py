"""A change after signing voids the other party's signature; he is told and signs again (issue 13 §1), in
Debian's Chromium: both parties of a draft have signed; 张三 lowers the price in the portal; 李四 gets an SMS
naming the change, sees on his page what changed and that his signature is void, passes the face check and
signs again; 张三's submission is refused (409, shown on the page) until 张三 signs again too; then it goes
through. Screenshots go to test-artifacts/portal/."""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from support.forms import transfer_form, upload_missing
from test_portal_journey import phone, photo_jpeg, shot

from app.demo import LI_SI


def test_a_change_after_signing_voids_the_other_partys_signature_and_he_signs_again(
        browser: Any, live_server: str, sign_in: Any, login: Any, simulator: Any, tmp_path: Path) -> None:
    api_seller = login("zhangsan")
    created = api_seller.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                            "form": transfer_form()})
    case_id = created.get_json()["id"]
    upload_missing(api_seller, case_id)
    answers = {"voluntary": "是", "co_owners_agree": "无其他共有人", "disputes": "否", "price_true": "是",
               "remarks": "无"}
    answered = api_seller.client.put(f"/api/v1/applications/{case_id}/inquiry", json={"answers": answers},
                                     headers=api_seller.headers)
    assert answered.status_code == 200, answered.get_json()
    for username in ("zhangsan", "lisi"):  # both signed (account signature) before the change
        assert login(username).post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    edit_path = f"/my/applications/{case_id}/edit"

    seller = phone(browser, live_server)
    sign_in(seller, "zhangsan", next_path=edit_path)
    seller.click("text=申请表（可修改）")
    seller.fill("#f-price", "2300000")
    seller.click("details button[type=submit]")
    expect(seller.locator("body")).to_contain_text("申请内容已变更，各方须重新签名确认")
    shot(seller, "20-change-after-signing")

    with urllib.request.urlopen(f"{simulator.url}/sms/outbox", timeout=5) as resp:
        outbox = json.loads(resp.read())["items"]
    texts = [m for m in outbox if m["phone"] == LI_SI["phone"] and m["template"] == "case_content_changed"]
    assert [t["params"]["changes"] for t in texts] == ["成交价格（元）：2350000 → 2300000"]

    buyer = phone(browser, live_server)
    sign_in(buyer, "lisi", next_path=edit_path)
    notice = buyer.locator("#content-changed")
    expect(notice).to_contain_text("成交价格（元）：2350000 → 2300000")
    expect(buyer.locator("ul.signers")).to_contain_text("内容已变更，须重新签名")
    shot(buyer, "21-told-what-changed")
    photo = tmp_path / "face.jpg"
    photo.write_bytes(photo_jpeg())
    buyer.set_input_files("#face-photo", str(photo))
    buyer.click("#face-submit")
    expect(buyer.locator("body")).to_contain_text("人脸核验通过")
    buyer.fill("#typed-name", "李四")
    buyer.check("input[name=typed_confirm]")
    buyer.check("input[name=pledge]")
    buyer.click("#sign-submit")
    expect(buyer.locator("main")).to_contain_text("您已签名确认申请")
    expect(buyer.locator("#content-changed")).to_have_count(0)
    shot(buyer, "22-signed-again")

    seller.goto(edit_path)
    seller.click("#submit-application")
    alert = seller.locator("[role=alert]").first
    expect(alert).to_contain_text("待转让方（张*）重新签名确认")
    expect(alert).not_to_contain_text("受让方")  # 李四 has signed the current content
    seller.set_input_files("#face-photo", str(photo))
    seller.click("#face-submit")
    seller.fill("#typed-name", "张三")
    seller.check("input[name=typed_confirm]")
    seller.check("input[name=pledge]")
    seller.click("#sign-submit")
    expect(seller.locator("main")).to_contain_text("您已签名确认申请")
    seller.click("#submit-application")
    expect(seller.locator("body")).to_contain_text("申请已提交，业务号")
    shot(seller, "23-submitted-after-both-signed-again")
