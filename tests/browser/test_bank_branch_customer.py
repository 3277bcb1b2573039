"""将抵押权登记业务延伸至银行网点 (issue 19) on a 360 px phone in Debian's Chromium: at the branch the loan officer
(the bank's account, over the API) files 抵押权首次登记 on 周杰's flat — 周杰 has no account — uploads the
contract and texts him the link. At the counter 周杰 opens the SMS link on his phone, signs up by SMS code, passes
实名认证 (公安 + face), reads the application with the bank's particulars, passes the face check and signs. The
bank confirms as mortgagee and submits; after 缮证 the 不动产登记证明 is the bank's to download.
Screenshots: test-artifacts/bank-customer/."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from phone_taps import Tapper, phone_page
from playwright.sync_api import expect
from support.cases import make_application_forms, take_through
from support.forms import upload_missing
from support.servers import LiveServer
from test_portal_journey import photo_jpeg, unit
from test_portal_new_owner import invitation_link, sign_up_and_verify

from app.config import ROOT
from app.demo import BANK, ZHOU_JIE, ZHOU_JIE_UNIT

SHOTS = ROOT / "test-artifacts" / "bank-customer"


def test_the_customer_confirms_the_banks_mortgage_on_his_phone_at_the_counter(
        browser: Any, live_server: str, simulator: LiveServer, login: Any, seeded: Any, tmp_path: Path) -> None:
    photo = tmp_path / "face.jpg"
    photo.write_bytes(photo_jpeg())
    flat = unit(ZHOU_JIE_UNIT)
    [title] = [r for r in login("xh_acceptor").get(f"/api/v1/units/{flat}").get_json()["rights"]
               if r["type"] == "ownership"]

    bank = login("bank")  # the loan officer at the counter
    created = bank.post("/api/v1/applications", json={"business_type": "mortgage_first", "form": {
        "unit_code": flat, "cert_no": title["cert_no"], "use": "住宅", "mortgagor_name": ZHOU_JIE["name"],
        "mortgagor_id_number": ZHOU_JIE["id_number"], "mortgagee_name": BANK["name"],
        "mortgagee_uscc": BANK["id_number"], "mortgage_kind": "一般抵押", "debt_amount": 600_000,
        "debt_start": "2026-12-01", "debt_end": "2041-11-30", "transfer_restricted": False,
        "guarantee_scope": "主债权及利息、违约金、损害赔偿金和实现抵押权的费用", "contract_no": "DY2026-0777"}})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    upload_missing(bank, case_id)
    assert bank.post(f"/api/v1/applications/{case_id}/confirm").status_code == 200
    sent = bank.post(f"/api/v1/applications/{case_id}/invitations",
                     json={"phone": ZHOU_JIE["phone"], "party_role": "mortgagor"})
    assert sent.status_code == 201, sent.get_json()

    page = phone_page(browser, live_server)  # 周杰's phone: the link in his SMS
    customer = Tapper(page, SHOTS)
    page.goto(invitation_link(simulator, ZHOU_JIE["phone"]))
    customer.seen("invitation")
    customer.tap("main >> text=注册新账户")
    sign_up_and_verify(customer, simulator, ZHOU_JIE, photo)
    page.wait_for_url(f"**/my/applications/{case_id}/edit*")  # the link survived sign-up and 实名认证
    main = page.locator("main")
    expect(page.locator("#read-only")).to_be_visible()  # the bank filled it; he reads and signs
    expect(main).to_contain_text(BANK["name"])
    expect(main).to_contain_text(ZHOU_JIE["id_number"])  # his own particulars whole
    customer.seen("read-only")
    customer.choose_file("#face-photo", photo)
    customer.tap("#face-submit")
    expect(page.locator("body")).to_contain_text("人脸核验通过")
    customer.sign()
    customer.tick("input[name=pledge]")
    customer.tap("#sign-submit")
    expect(main).to_contain_text("您已签名确认申请")
    customer.seen("signed")

    make_application_forms(bank.client.application)
    submitted = bank.post(f"/api/v1/applications/{case_id}/submit")
    assert submitted.status_code == 200, submitted.get_json()
    take_through(login, submitted.get_json()["business_no"])
    [proof] = bank.get(f"/api/v1/applications/{case_id}").get_json()["certificates"]
    assert proof["kind"] == "proof" and proof["downloadable"] is True
    pdf = bank.get(f"/api/v1/certificates/{proof['id']}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    page.goto(f"/my/applications/{case_id}")
    expect(page.locator("#case-status")).to_contain_text("已办结")  # he follows it on his phone too
    customer.seen("done")
