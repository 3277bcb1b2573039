"""Names and ID numbers never reach the database file in clear: not in rows, workflow state, task data,
audit before/after, events or the outbox."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.cases import complete_stage


def test_after_a_lifecycle_no_raw_name_or_id_number_is_in_the_sqlite_file(login: Any, seeded: Any,
                                                                          submitted_transfer: dict) -> None:
    db = seeded.extensions["db"]
    if db.engine.dialect.name != "sqlite":
        pytest.skip("inspects the SQLite file itself")
    from app.demo import LI_SI, ZHANG_SAN

    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        assert complete_stage(login(username), submitted_transfer["business_no"], stage).status_code == 200
    db.engine.dispose()  # the last connection to close checkpoints the WAL into the main file
    path = Path(db.engine.url.database)
    blobs = b"".join(p.read_bytes() for p in [path, Path(f"{path}-wal")] if p.exists())
    assert len(blobs) > 10_000 and "西湖区".encode() in blobs  # the scan does see plain text
    for person in (ZHANG_SAN, LI_SI):
        for secret in (person["name"], person["id_number"], person["phone"]):
            assert secret.encode("utf-8") not in blobs, f"{secret} found in clear in the database file"


def test_the_api_masks_personal_data_by_default(login: Any, submitted_transfer: dict) -> None:
    from app.demo import LI_SI

    case = login("xh_acceptor").get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()
    buyer = next(p for p in case["parties"] if p["role"] == "buyer")
    assert buyer["name"] == "李*" and buyer["id_number"] != LI_SI["id_number"]
    assert buyer["id_number"].startswith(LI_SI["id_number"][:4]) and "*" in buyer["id_number"]
    assert case["form"]["buyer_id_number"] != LI_SI["id_number"]


def test_unmasking_needs_the_permission_and_is_audited(login: Any, seeded: Any, submitted_transfer: dict) -> None:
    from sqlalchemy import select

    from app.demo import LI_SI
    from app.security.models import AuditEntry

    path = f"/api/v1/applications/{submitted_transfer['id']}"
    assert login("xh_acceptor").get(path, query_string={"unmask": 1}).status_code == 403
    whole = login("admin").get(path, query_string={"unmask": 1}).get_json()
    assert next(p for p in whole["parties"] if p["role"] == "buyer")["id_number"] == LI_SI["id_number"]
    with seeded.extensions["db"].unit_of_work() as session:
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.object_id == submitted_transfer["id"]))
        assert "pii.unmask" in set(actions.scalars())


def test_delivery_addresses_and_inquiry_answers_are_encrypted_too(login: Any, seeded: Any,
                                                                  submitted_transfer: dict) -> None:
    db = seeded.extensions["db"]
    if db.engine.dialect.name != "sqlite":
        pytest.skip("inspects the SQLite file itself")
    from support.forms import transfer_form
    from test_portal_pages import csrf, sign_in

    buyer = seeded.test_client()
    sign_in(buyer, "lisi")
    path = f"/my/applications/{submitted_transfer['id']}"
    address = "浙江省杭州市西湖区保密路 987 号 6 单元 1203 室"
    chosen = buyer.post(f"{path}/delivery", data={"csrf_token": csrf(buyer, path), "method": "postal",
                                                  "recipient": "李四", "phone": "13800000002", "address": address})
    assert chosen.status_code == 302
    seller = login("zhangsan")
    draft = seller.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                      "form": transfer_form()}).get_json()["id"]
    remark = "承租人王小二已书面放弃优先购买权"
    answers = {"voluntary": "是", "co_owners_agree": "无其他共有人", "disputes": "是", "price_true": "是",
               "remarks": remark}
    assert seller.client.put(f"/api/v1/applications/{draft}/inquiry", headers=seller.headers,
                             json={"answers": answers}).status_code == 200
    db.engine.dispose()
    file = Path(db.engine.url.database)
    blobs = b"".join(p.read_bytes() for p in [file, Path(f"{file}-wal")] if p.exists())
    assert "西湖区".encode() in blobs
    for secret in (address, "保密路", remark, "王小二"):
        assert secret.encode("utf-8") not in blobs, f"{secret} found in clear in the database file"
