"""Acceptance: 线下一窗受理 — a clerk enters a walk-in application, scans the materials in and submits; the
case then waits in the 受理 inbox like an online one, marked as a window case. A portal appointment code
starts the case with the booked type and the booking applicant's identity."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select
from support.forms import PDF, transfer_form
from workbench_pages import clerk_page_fixture  # noqa: F401  (fixture)

from app.casefile.models import Case
from app.demo import LI_SI, ZHANG_SAN

REQUIRED = ["seller_identity", "buyer_identity", "title_certificate", "sale_contract",
            "tax_voucher"]


def test_a_walk_in_transfer_is_entered_scanned_and_submitted(clerk_page: Any, seeded: Any) -> None:
    page = clerk_page("xh_acceptor")
    page.click("text=窗口受理")
    page.select_option("#pick_business_type", "transfer_resale")
    page.click("text=填写申请表")
    form = transfer_form(seller_name=ZHANG_SAN["name"], seller_id_number=ZHANG_SAN["id_number"],
                         buyer_id_number="110101199001011234")  # wrong check digit
    for name in ("unit_code", "seller_name", "seller_id_number", "buyer_name", "buyer_id_number", "price",
                 "contract_no"):
        page.fill(f"#f-{name}", str(form[name]))
    page.check("input[name=use][value=住宅]")
    page.click("#create-window-case")
    expect(page.locator(".field.has-error #buyer_id_number-error")).to_have_count(1)
    page.fill("#f-buyer_id_number", LI_SI["id_number"])
    page.click("#create-window-case")
    page.wait_for_url(re.compile(r"/workbench/window/\w+$"))
    assert page.is_disabled("#submit-window-case")
    assert "系统生成" in page.locator("#generated-application_form").inner_text()  # the 申请书: not scanned
    expect(page.locator("input[data-code=application_form]")).to_have_count(0)
    for code in REQUIRED:
        page.set_input_files(f"input[data-code={code}]",
                             files=[{"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        with page.expect_navigation():  # the page that answers the upload, not the one already shown
            page.locator("form", has=page.locator(f"input[data-code={code}]")).locator("button").click()
        assert "材料已上传" in page.locator(".flash").first.inner_text()
    page.click("#submit-window-case")
    page.wait_for_url(re.compile(r"/workbench/cases/\w+$"))
    assert "已进入受理环节" in page.locator(".flash").first.inner_text()
    assert "窗口受理" in page.locator(".case-head").inner_text()
    with seeded.extensions["db"].unit_of_work() as session:
        case = session.execute(select(Case)).scalar_one()
        assert (case.channel, case.status) == ("window", "accepting")
        assert all(p.confirmed_at is not None for p in case.parties)
        assert [m.content_type for m in case.materials if m.code == "application_form"] == ["application/pdf"]
        business_no = case.business_no
    page.goto("/workbench/?tab=claimable")
    row = page.locator("tr.task-row", has_text=business_no)
    assert "窗口" in row.inner_text() and "受理" in row.inner_text()


def test_a_wrong_material_type_is_refused_next_to_the_item(clerk_page: Any) -> None:
    page = clerk_page("xh_acceptor")
    page.goto("/workbench/window?business_type=transfer_resale")
    form = transfer_form(seller_name=ZHANG_SAN["name"], seller_id_number=ZHANG_SAN["id_number"])
    for name in ("unit_code", "seller_name", "seller_id_number"):
        page.fill(f"#f-{name}", str(form[name]))
    page.click("#create-window-case")
    page.wait_for_url(re.compile(r"/workbench/window/\w+$"))
    page.set_input_files("input[data-code=sale_contract]",
                         files=[{"name": "x.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf"}])
    page.locator("form", has=page.locator("input[data-code=sale_contract]")).locator("button").click()
    assert "按文件内容识别" in page.locator("#file_sale_contract-error").inner_text()


def test_an_appointment_code_starts_the_window_case(clerk_page: Any, seeded: Any, monkeypatch: Any) -> None:
    from datetime import timedelta

    from app.casefile.models import Appointment
    from app.cases import appointments
    from app.identity.actor import actor_for
    from app.identity.models import User

    db = seeded.extensions["db"]
    with db.unit_of_work() as session:
        zhang = actor_for(session, session.execute(select(User).where(User.username == "zhangsan")).scalar_one())
        today = appointments.beijing_today()
        day = appointments.bookable_days(today - timedelta(days=1))[0]
        code = appointments.book(session, zhang, tenant_id="330106", business_type="transfer_resale", day=day,
                                 half="am", today=today - timedelta(days=1)).code
    monkeypatch.setattr(appointments, "beijing_today", lambda: day)
    page = clerk_page("xh_acceptor")
    page.goto("/workbench/window")
    page.fill("#appointment_code", "NOSUCHCD")
    page.click("#create-window-case")
    assert "预约码不存在" in page.locator("#appointment_code-error").inner_text()
    page.fill("#appointment_code", code.lower())
    page.click("#create-window-case")
    page.wait_for_url(re.compile(r"/workbench/window/\w+$"))
    with db.unit_of_work() as session:
        case = session.execute(select(Case)).scalar_one()
        booking = session.execute(select(Appointment)).scalar_one()
        assert (case.channel, case.business_type_code) == ("window", "transfer_resale")
        assert case.form_data["seller_name"] == ZHANG_SAN["name"]
        assert (booking.status, booking.case_id) == ("checked_in", case.id)


def test_a_unit_of_another_district_is_sent_to_its_office(clerk_page: Any) -> None:
    from app.identifiers import make_unit_code

    page = clerk_page("xh_acceptor")
    page.goto("/workbench/window?business_type=transfer_resale")
    page.fill("#f-unit_code", make_unit_code("330110", 1, 1, "GB", 100, 1, 101))
    page.click("#create-window-case")
    assert "不属于本登记机构辖区" in page.locator("#unit_code-error").inner_text()
