"""税务 tax cases with the signed 完税 callback, the subscribers the platform pushes to (住建, 税务, the
provincial platform, SMS notifications), and the SMS, face, payment and express-delivery services."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
import urllib.request
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, request
from markupsafe import escape

from simulator.common import body, department, sign, state
from simulator.data import compute_tax
from simulator.state import SimulatorState

bp = Blueprint("sim_services", __name__)
SUBSCRIBERS = {"zhujian": "住建", "shuiwu": "税务", "province": "省级平台", "sms": "短信", "zhengzhao": "电子证照库",
               "haochaping": "省政务服务好差评系统", "bank_receiver": "银行不动产登记证明接收"}
# The national 政务服务好差评 scale the province's system accepts (5 非常满意 … 1 非常不满意).
HAOCHAPING_LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


@bp.post("/shuiwu/tax-cases")
@department("shuiwu")
def push_tax_case(mismatch: bool) -> Any:
    """Accept a tax case (idempotent per business number), compute the tax from the filed contract and,
    shortly after, call the platform back with 完税."""
    case = _open_tax_case(body())
    if case is None:
        return jsonify(accepted=False, message="缺少业务号或成交价格，无法生成税务事项"), 422
    return jsonify(accepted=True, tax_case_no=case["tax_case_no"], status=case["status"]), 202


def _open_tax_case(q: dict[str, Any]) -> dict[str, Any] | None:
    """The tax base is the declared transaction (price, use, unit) of the pushed case; the filed contract,
    when 住建 shared it, fills in what the push left out."""
    business_no, contract_no = str(q.get("business_no", "")), str(q.get("contract_no", ""))
    sim = state()
    contract = sim.world.contracts.get(contract_no) or {}
    declared = {k: q.get(k) or contract.get(k) for k in ("price", "use", "unit_code")}
    if not business_no or not declared["price"]:
        return None
    with sim.lock:
        case = sim.tax_cases.get(business_no)
        if case is None:
            tax = compute_tax({"price": str(declared["price"]), "use": declared["use"]})
            case = {"business_no": business_no, "tax_case_no": f"SW{business_no}", "status": "计税中",
                    "contract_no": contract_no, "unit_code": declared["unit_code"], **tax}
            sim.tax_cases[business_no] = case
            config = current_app.config["SIM"]
            threading.Thread(target=_settle, daemon=True, args=(sim, config, business_no,
                                                                str(q.get("callback_url", "")))).start()
    return case


@bp.get("/shuiwu/tax-cases/<business_no>")
@department("shuiwu")
def tax_case(business_no: str, mismatch: bool) -> Any:
    case = state().tax_cases.get(business_no)
    return (jsonify(found=True, **case), 200) if case else (jsonify(found=False, message="无此税务事项"), 404)


def _settle(sim: SimulatorState, config: Any, business_no: str, callback_url: str) -> None:
    """The taxpayers pay; the tax office calls back (signed) until the platform answers 2xx — or until the
    simulator is reset (SimulatorState.generation)."""
    generation = sim.generation
    time.sleep(config.tax_callback_delay_s)
    with sim.lock:
        case = sim.tax_cases.get(business_no)
        if case is None or sim.generation != generation:
            return
        case.update(status="完税", voucher_no=f"电子税票{business_no[-8:]}", paid_at=time.strftime("%Y-%m-%d"))
        payload = {"event": "tax.paid", "business_no": business_no, "tax_case_no": case["tax_case_no"],
                   "status": "完税", "voucher_no": case["voucher_no"], "paid_at": case["paid_at"],
                   "total": case["total"], "items": case["items"], "unit_code": case["unit_code"],
                   "contract_no": case["contract_no"]}
    if not callback_url:
        return
    raw = json.dumps(payload, ensure_ascii=False).encode()
    for delay in (0.0, *config.callback_retry_delays):
        time.sleep(delay)
        with sim.idle:
            if sim.generation != generation:
                return
            sim.in_flight += 1
        try:
            status = post_signed(callback_url, raw, config.tax_callback_secret)
        finally:
            with sim.idle:
                sim.in_flight -= 1
                sim.idle.notify_all()
        with sim.lock:
            sim.callbacks.append({"business_no": business_no, "status": status})
        if 200 <= status < 300:
            return


def post_signed(url: str, raw: bytes, secret: str) -> int:
    """A signed callback to the platform (税务's 完税, the payment gateway's notification): HTTP status or 0."""
    stamp = str(int(time.time()))
    req = urllib.request.Request(url, data=raw, method="POST", headers={
        "Content-Type": "application/json", "X-Timestamp": stamp, "X-Signature": sign(secret, stamp, raw)})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (configured URL)
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)
    except OSError:
        return 0


@bp.post("/<subscriber>/inbox")
def subscriber_inbox(subscriber: str) -> Any:
    """Pushed messages (registration results, progress): deduped on the ``Idempotency-Key`` header."""
    if subscriber not in SUBSCRIBERS:
        return jsonify(error="not_found"), 404
    if request.headers.get("Authorization", "") != f"Bearer {current_app.config['SIM'].api_key}":
        return jsonify(error="unauthorized"), 401
    behaviour = state().behaviour_of(subscriber)
    if behaviour.mode == "fail":
        return jsonify(error="unavailable"), 503
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return jsonify(error="missing Idempotency-Key"), 400
    message = body()
    if subscriber == "haochaping" and (problem := _rating_problem(message)):
        return jsonify(accepted=False, message=problem), 422
    if subscriber == "bank_receiver" and (problem := _certificate_problem(message)):
        return jsonify(accepted=False, message=problem), 422
    fresh = state().receive(subscriber, key, message)
    if fresh and subscriber == "shuiwu" and message.get("topic") == "tax.case":
        _open_tax_case(message)  # a tax case pushed late through the platform's outbox
    return jsonify(received=True, duplicate=not fresh), 200


def _rating_problem(message: dict[str, Any]) -> str | None:
    """The 好差评 system refuses a rating off the national scale or without the service it rates."""
    if message.get("topic") != "feedback.rating":
        return "未知的消息类型"
    if HAOCHAPING_LEVELS.get(message.get("level")) != message.get("level_label"):  # type: ignore[arg-type]
        return "评价等级不在政务服务好差评五级标准内"
    if not message.get("business_no") or not message.get("office"):
        return "缺少被评价的办件编号或办理机构"
    return None


def _certificate_problem(message: dict[str, Any]) -> str | None:
    """The bank's receiving system takes a 证明 for a bank it knows by USCC, whose PDF matches its SHA-256 (and
    the platform's test call, ``interface.probe``)."""
    if message.get("topic") == "interface.probe":
        return None
    if message.get("topic") != "certificate.issued_to_institution":
        return "未知的消息类型"
    if not message.get("institution_uscc") or not message.get("certificate_no"):
        return "缺少接收机构统一社会信用代码或证明号"
    try:
        pdf = base64.b64decode(str(message.get("pdf_base64") or ""), validate=True)
    except binascii.Error:
        return "证明文件编码有误"
    if not pdf.startswith(b"%PDF") or hashlib.sha256(pdf).hexdigest() != message.get("sha256"):
        return "证明文件与其 SHA-256 摘要不符"
    return None


@bp.post("/sms/send")
@department("sms")
def sms_send(mismatch: bool) -> Any:
    """Send a text (verification codes, notices); kept in an outbox that developers can read."""
    q = body()
    message = {"id": f"SMS{len(state().sms) + 1:06d}", "phone": str(q.get("phone", "")),
               "template": str(q.get("template", "")), "params": q.get("params") or {}, "at": time.time()}
    with state().lock:
        state().sms.append(message)
    return jsonify(sent=True, message_id=message["id"])


@bp.get("/sms/outbox")
def sms_outbox() -> Any:
    """Development view of sent texts (JSON; ``?html=1`` for a page)."""
    items = list(reversed(state().sms))
    if request.args.get("html"):
        rows = "".join(f"<tr><td>{m['id']}</td><td>{m['phone']}</td><td>{m['template']}</td>"
                       f"<td>{json.dumps(m['params'], ensure_ascii=False)}</td></tr>" for m in items)
        return (f"<!doctype html><meta charset='utf-8'><title>短信发件箱（模拟）</title><h1>短信发件箱（模拟）</h1>"
                f"<table border=1><tr><th>编号</th><th>手机号</th><th>模板</th><th>参数</th></tr>{rows}</table>")
    return jsonify(items=items)


@bp.post("/face/verify")
@department("face")
def face_verify(mismatch: bool) -> Any:
    """Compare a live photo with the 公安 photo of the ID number: a similarity score out of 100."""
    q = body()
    person = state().world.people.get(str(q.get("id_number", "")).upper())
    score = 0.0 if person is None else (41.5 if mismatch else 93.2)
    return jsonify(score=score, threshold=80.0, passed=score >= 80.0)


@bp.post("/pay/orders")
@department("payment")
def create_payment(mismatch: bool) -> Any:
    """Open an order (idempotent per order number); the payer's browser goes to ``pay_url``."""
    q = body()
    order_no = str(q.get("order_no", ""))
    with state().lock:
        order = state().payments.get(order_no)
        if order is None or order["status"] != "已支付":
            state().payments[order_no] = {"order_no": order_no, "amount": q.get("amount"), "status": "待支付",
                                          "notify_url": q.get("notify_url"), "return_url": q.get("return_url"),
                                          "subject": q.get("subject") or "", "notified": []}
    return jsonify(order_no=order_no, pay_url=f"{request.host_url}pay/orders/{order_no}")


def _notify(order: dict[str, Any]) -> int:
    """The gateway's signed notification to the platform (the tax callback's format); HTTP status or 0."""
    raw = json.dumps({"order_no": order["order_no"], "status": "已支付", "amount": order["amount"]},
                     ensure_ascii=False).encode()
    return post_signed(str(order["notify_url"]), raw, current_app.config["SIM"].payment_callback_secret)


@bp.route("/pay/orders/<order_no>", methods=["GET", "POST"])
def pay_page(order_no: str) -> Any:
    """A minimal cashier page: GET shows the order, POST pays, notifies the platform (signed) and sends the
    browser back to the platform's ``return_url``."""
    order = state().payments.get(order_no)
    if order is None:
        return "订单不存在", 404
    if request.method == "POST":
        with state().lock:
            order["status"] = "已支付"
        if order.get("notify_url"):
            order["notified"].append(_notify(order))
        if order.get("return_url"):
            return redirect(str(order["return_url"]), code=303)
    return (f"<!doctype html><html lang=zh-CN><meta charset='utf-8'>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><title>统一支付平台（模拟）</title>"
            f"<body style='font-family:sans-serif;max-width:30rem;margin:1rem auto;padding:0 1rem'>"
            f"<h1>统一支付平台（模拟收银台）</h1><p id=subject>{escape(order['subject'])}</p>"
            f"<p>订单号 <span id=order>{escape(order_no)}</span></p>"
            f"<p>应付金额 <strong id=amount>{escape(str(order['amount']))}</strong> 元</p>"
            f"<p>状态：<span id=status>{order['status']}</span></p>"
            f"<form method=post><button id=pay style='font-size:1.2rem;padding:.6rem 2rem'>确认支付</button></form>")


@bp.get("/pay/orders/<order_no>/status")
@department("payment")
def payment_status(order_no: str, mismatch: bool) -> Any:
    order = state().payments.get(order_no)
    if order is None:
        return jsonify(found=False), 404
    return jsonify(found=True, order_no=order_no, status=order["status"], amount=order["amount"],
                   notified=order["notified"])


@bp.post("/express/shipments")
@department("express")
def ship(mismatch: bool) -> Any:
    q = body()
    tracking = f"SF{1000000 + len(state().shipments) + 1}"
    with state().lock:
        now = time.strftime("%Y-%m-%d %H:%M")
        state().shipments[tracking] = {"tracking_no": tracking, "order_no": q.get("order_no"), "events": [
            {"status": "已揽收", "place": "不动产登记中心寄递点", "at": now},
            {"status": "运输中", "place": "杭州转运中心", "at": now}]}
    return jsonify(tracking_no=tracking)


@bp.get("/express/shipments/<tracking_no>")
@department("express")
def track(tracking_no: str, mismatch: bool) -> Any:
    shipment = state().shipments.get(tracking_no)
    return (jsonify(shipment), 200) if shipment else (jsonify(error="not_found"), 404)
