"""After submission: 告知文书 for the applicant, fees and taxes itemised, payment on the gateway's page with the
signed callback (idempotent, forged or stale signatures refused), the 电子票据, 发证 waiting for payment, and
postal delivery through the express adapter with the tracking shown to the applicant."""
from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx
from flask.testing import FlaskClient
from support.cases import complete_stage, take_through
from support.personas import STAFF
from test_portal_pages import csrf, sign_in

from app.cases.sharing.tax import signature


def _portal(seeded: Any, username: str) -> FlaskClient:
    client = seeded.test_client()
    sign_in(client, username)
    return client


def _callback(client: FlaskClient, body: dict[str, Any], *, secret: str | None = None,
              stamp: str | None = None) -> Any:
    secret = secret or os.environ["PAYMENT_CALLBACK_SECRET"]
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = stamp or str(int(time.time()))
    return client.post("/api/v1/callbacks/payment", data=raw, content_type="application/json",
                       headers={"X-Timestamp": stamp, "X-Signature": signature(secret, stamp, raw)})


def test_the_applicant_downloads_the_acceptance_notice(seeded: Any, login: Any, submitted_transfer: dict) -> None:
    case_id = submitted_transfer["id"]
    take_through(login, submitted_transfer["business_no"], ("受理",))
    buyer = _portal(seeded, "lisi")
    page = buyer.get(f"/my/applications/{case_id}").get_data(as_text=True)
    assert "受理通知书" in page and f"/my/applications/{case_id}/notices/acceptance.pdf" in page
    pdf = buyer.get(f"/my/applications/{case_id}/notices/acceptance.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert buyer.get(f"/my/applications/{case_id}/notices/rejection.pdf").status_code == 404


def test_fees_are_paid_on_the_gateway_page_and_the_certificate_waits_for_payment(
        seeded: Any, login: Any, submitted_transfer: dict, simulator: Any) -> None:
    case_id, no = submitted_transfer["id"], submitted_transfer["business_no"]
    take_through(login, no)
    buyer = _portal(seeded, "lisi")
    page = buyer.get(f"/my/applications/{case_id}").get_data(as_text=True)
    assert "不动产登记费（住宅）" in page and "待缴费" in page
    assert "契税" in page and "35250.00" in page and "已完税" in page  # from the 税务 callback (1.5 % of 2 350 000)

    # 发证 waits for payment
    cert = login("zhangsan").get(f"/api/v1/applications/{case_id}").get_json()["certificates"][0]
    certifier = _portal(seeded, STAFF["缮证"])
    case_page = f"/workbench/cases/{case_id}"
    refused = certifier.post(f"/workbench/cases/{case_id}/certificates/{cert['id']}/deliver",
                             data={"csrf_token": csrf(certifier, case_page), "method": "collected"},
                             follow_redirects=True)
    assert "尚未缴纳登记费（80 元），缴费后方可发证" in refused.get_data(as_text=True)

    # the applicant chooses postal delivery (errors beside the fields first)
    path = f"/my/applications/{case_id}"
    bad = buyer.post(f"{path}/delivery", data={"csrf_token": csrf(buyer, path), "method": "postal",
                                               "recipient": "李四", "phone": "123", "address": "杭州"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请填写 11 位手机号码" in text and "请填写详细收件地址" in text
    chosen = buyer.post(f"{path}/delivery", data={"csrf_token": csrf(buyer, path), "method": "postal",
                                                  "recipient": "李四", "phone": "13800000002",
                                                  "address": "浙江省杭州市西湖区文三路 100 号 3 单元 501 室"})
    assert chosen.status_code == 302

    # pay: the platform opens the order and sends the browser to the gateway's cashier page
    started = buyer.post(f"{path}/pay", data={"csrf_token": csrf(buyer, path)})
    assert started.status_code == 303 and started.headers["Location"].startswith(simulator.url)
    cashier = httpx.get(started.headers["Location"])
    assert "80.00" in cashier.text and no in cashier.text
    back = httpx.post(started.headers["Location"], follow_redirects=False)  # 确认支付: callback, then back
    assert back.status_code == 303 and back.headers["location"].endswith(f"/my/applications/{case_id}/paid")
    returned = buyer.get(f"{path}/paid", follow_redirects=True).get_data(as_text=True)
    assert "缴费成功" in returned and "已缴费" in returned and "下载电子票据" in returned
    receipt = buyer.get(f"{path}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.data.startswith(b"%PDF")
    bill = login("lisi").get(f"/api/v1/applications/{case_id}/payment").get_json()
    assert bill["paid"] and bill["receipt_no"].startswith("PJ") and bill["taxes"]["paid"]

    # the callback again (the gateway retries): nothing changes; forged or stale ones are refused
    order_no = f"JF{no}01"
    again = _callback(buyer, {"order_no": order_no, "status": "已支付", "amount": "80.00"})
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert _callback(buyer, {"order_no": order_no, "status": "已支付", "amount": "80.00"},
                     secret="forged").status_code == 401
    assert _callback(buyer, {"order_no": order_no, "status": "已支付", "amount": "80.00"},
                     stamp=str(int(time.time()) - 3600)).status_code == 401
    assert buyer.post(f"{path}/pay", data={"csrf_token": csrf(buyer, path)},
                      follow_redirects=True).get_data(as_text=True).count("已缴费") >= 1

    # 发证 now: mailed without a number typed in → shipped to the chosen address through the express adapter
    workbench = certifier.get(case_page).get_data(as_text=True)
    assert "邮寄送达" in workbench and "已缴费" in workbench
    mailed = certifier.post(f"/workbench/cases/{case_id}/certificates/{cert['id']}/deliver",
                            data={"csrf_token": csrf(certifier, case_page), "method": "mailed", "tracking_no": ""},
                            follow_redirects=True)
    assert "已邮寄（快递单号 SF" in mailed.get_data(as_text=True)
    followed = buyer.get(path).get_data(as_text=True)
    assert "已邮寄，快递单号" in followed and "已揽收" in followed and "杭州转运中心" in followed
    assert 'id="delivery-save"' not in followed  # the choice is fixed once mailed


def test_payment_is_refused_before_submission_and_when_nothing_is_due(seeded: Any, login: Any) -> None:
    from support.forms import transfer_form

    case_id = login("zhangsan").post("/api/v1/applications", json={
        "business_type": "transfer_resale", "form": transfer_form()}).get_json()["id"]
    seller = _portal(seeded, "zhangsan")
    path = f"/my/applications/{case_id}"
    refused = seller.post(f"{path}/pay", data={"csrf_token": csrf(seller, path)}, follow_redirects=True)
    assert "申请提交并受理后方可缴费" in refused.get_data(as_text=True)
    unknown = _callback(seller, {"order_no": "JF-NOPE", "status": "已支付", "amount": "1"})
    assert unknown.status_code == 404


def test_a_clerk_marks_collection_at_the_hall_after_payment(seeded: Any, login: Any, submitted_transfer: dict,
                                                            simulator: Any) -> None:
    case_id, no = submitted_transfer["id"], submitted_transfer["business_no"]
    take_through(login, no, ("受理",))
    buyer = _portal(seeded, "lisi")
    path = f"/my/applications/{case_id}"
    started = buyer.post(f"{path}/pay", data={"csrf_token": csrf(buyer, path)})
    httpx.post(started.headers["Location"], follow_redirects=False)
    assert "已缴费" in buyer.get(path).get_data(as_text=True)
    for stage in ("审核", "登簿", "缮证"):
        assert complete_stage(login(STAFF[stage]), no, stage).status_code == 200
    cert = login("lisi").get(f"/api/v1/applications/{case_id}").get_json()["certificates"][0]
    certifier = _portal(seeded, STAFF["缮证"])
    done = certifier.post(f"/workbench/cases/{case_id}/certificates/{cert['id']}/deliver",
                          data={"csrf_token": csrf(certifier, f"/workbench/cases/{case_id}"), "method": "collected"},
                          follow_redirects=True)
    assert "已领取" in done.get_data(as_text=True)
    assert "已在窗口领取" in buyer.get(path).get_data(as_text=True)
