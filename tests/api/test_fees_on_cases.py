"""A submitted application carries the fees it will be charged, so applicant and clerk see the same amount."""
from __future__ import annotations

from typing import Any


def test_a_submitted_residential_transfer_shows_the_80_yuan_fee(login: Any, submitted_transfer: dict) -> None:
    for case in (submitted_transfer, login("zhangsan").get(f"/api/v1/applications/{submitted_transfer['id']}")
                 .get_json()):
        assert [(i["code"], i["amount_yuan"], i["payer_role"]) for i in case["fee_items"]] == [
            ("registration_residential", 80, "buyer")]
        assert case["fee_total_yuan"] == 80
