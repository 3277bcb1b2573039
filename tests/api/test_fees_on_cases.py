"""A submitted application carries the fees it will be charged, so applicant and clerk see the same amount."""
from __future__ import annotations

from typing import Any


def test_a_submitted_residential_transfer_shows_the_80_yuan_fee(login: Any, submitted_transfer: dict) -> None:
    for case in (submitted_transfer, login("zhangsan").get(f"/api/v1/applications/{submitted_transfer['id']}")
                 .get_json()):
        assert [(i["code"], i["amount_yuan"], i["payer_role"]) for i in case["fee_items"]] == [
            ("registration_residential", 80, "buyer")]
        assert case["fee_total_yuan"] == 80


def test_co_owners_holding_separate_certificates_pay_ten_yuan_for_each_further_one(login: Any) -> None:
    from support.cases import file_application
    from support.forms import transfer_form

    from app.demo import WU_HAO

    form = transfer_form(share_mode="共同共有", co_buyers=[{"name": WU_HAO["name"], "id_number": WU_HAO["id_number"]}],
                         separate_certificates=True)
    submitted = file_application(login, "zhangsan", "transfer_resale", form, confirmers=("lisi", "wuhao"))
    assert submitted.status_code == 200, submitted.get_json()
    case = submitted.get_json()
    assert [(i["code"], i["amount_yuan"], i["payer_role"]) for i in case["fee_items"]] == [
        ("registration_residential", 80, "buyer"), ("certificate_production", 10, "buyer")]
    assert case["fee_total_yuan"] == 90 and "每增加一本加收证书工本费 10 元" in case["fee_items"][1]["basis"]


def test_co_owners_sharing_one_certificate_pay_no_production_fee(login: Any) -> None:
    from support.cases import file_application
    from support.forms import transfer_form

    from app.demo import WU_HAO

    form = transfer_form(share_mode="共同共有", co_buyers=[{"name": WU_HAO["name"], "id_number": WU_HAO["id_number"]}],
                         separate_certificates=False)
    submitted = file_application(login, "zhangsan", "transfer_resale", form, confirmers=("lisi", "wuhao"))
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["fee_total_yuan"] == 80


def test_the_portal_form_offers_separate_certificates(seeded: Any) -> None:
    from support.forms import transfer_form

    from app.demo import DEMO_PASSWORD

    seeded.config["WTF_CSRF_ENABLED"] = False
    client = seeded.test_client()
    assert client.post("/login", data={"username": "zhangsan", "password": DEMO_PASSWORD}).status_code == 302
    page = client.get(f"/apply/transfer_resale?unit_code={transfer_form()['unit_code']}")
    assert page.status_code == 200
    assert 'name="separate_certificates"' in page.get_data(as_text=True)
