"""An external archive system (档案馆 / 数字档案室) receiving electronic archive packages: checks the SHA-256 it
is told against the body and that the body is a DA/T 48 package, keeps it, and answers a receipt number — the
same receipt for a 档号 it already holds. What it received is listed under ``/_control/state`` (``received``,
subscriber ``archive``) and by ``GET /archive/packages``."""
from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from lxml import etree

from simulator.common import state

bp = Blueprint("sim_archive", __name__)
EEP_ROOT = "{http://www.saac.gov.cn/standards/ERM/encapsulation}电子文件封装包"


@bp.post("/archive/packages")
def receive_package() -> Any:
    if request.headers.get("Authorization", "") != f"Bearer {current_app.config['SIM'].api_key}":
        return jsonify(error="unauthorized"), 401
    if state().behaviour_of("archive").mode == "fail":
        return jsonify(error="unavailable", message="档案接收系统故障（模拟）"), 503
    body = request.get_data()
    archive_no, sha256 = request.args.get("archive_no", ""), request.args.get("sha256", "")
    if not archive_no or hashlib.sha256(body).hexdigest() != sha256:
        return jsonify(error="bad_request", message="档号缺失或SHA-256与内容不符"), 400
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except etree.XMLSyntaxError:
        return jsonify(error="bad_request", message="不是有效的XML"), 400
    if root.tag != EEP_ROOT:
        return jsonify(error="bad_request", message="不是电子文件封装包"), 400
    sim = state()
    with sim.lock:
        held = sim.received.setdefault("archive", [])
        for item in held:
            if item["key"] == archive_no:
                return jsonify(receipt=item["body"]["receipt"], duplicate=True)
        receipt = f"DAG-{len(held) + 1:06d}"
        held.append({"key": archive_no, "body": {"receipt": receipt, "sha256": sha256, "size": len(body)},
                     "content": body})
    return jsonify(receipt=receipt, duplicate=False), 201


@bp.get("/archive/packages")
def list_packages() -> Any:
    with state().lock:
        return jsonify(items=[{"archive_no": i["key"], **i["body"]} for i in state().received.get("archive", [])])
