"""不动产登记费 from the shipped business.yaml definitions (DOMAIN.md §1.6): 住宅 80, 非住宅 550 per 件, paid by
the party that becomes the right holder; certificate 工本费 only for additional certificates."""
from __future__ import annotations

import copy
import dataclasses

import pytest
from support.definitions import OPERATORS, REPO

import app.cases.sharing.tax  # noqa: F401  (registers tax_paid(), which transfer_resale's gateway reads)
from app.catalog.definitions import BusinessTypeDef, load_business_type
from app.registry.fees import compute_fees, fee_total_yuan


def definition(code: str) -> BusinessTypeDef:
    return load_business_type(REPO / "processes" / code, REPO / "forms", OPERATORS)


@pytest.fixture(scope="module")
def transfer() -> BusinessTypeDef:
    return definition("transfer_resale")


@pytest.mark.parametrize(("use", "amount", "code"), [("住宅", 80, "registration_residential"),
                                                     ("非住宅", 550, "registration_non_residential")])
def test_transfer_charges_by_use_and_the_buyer_pays(transfer: BusinessTypeDef, use: str, amount: int,
                                                    code: str) -> None:
    items = compute_fees(transfer, {"use": use, "price": 2_350_000, "share_mode": "单独所有"})
    assert [(i["code"], i["amount_yuan"], i["payer_role"]) for i in items] == [(code, amount, "buyer")]
    assert "2559号" in items[0]["basis"]
    assert fee_total_yuan(items) == amount


def test_use_not_given_means_no_fee_rule_matches(transfer: BusinessTypeDef) -> None:
    assert compute_fees(transfer, {}) == []


@pytest.mark.parametrize(("use", "amount"), [("住宅", 80), ("非住宅", 550)])
def test_mortgage_is_paid_by_the_mortgagee(use: str, amount: int) -> None:
    items = compute_fees(definition("mortgage_first"), {"use": use})
    assert [(i["amount_yuan"], i["payer_role"]) for i in items] == [(amount, "mortgagee")]


def test_a_free_type_has_no_fee_items(transfer: BusinessTypeDef) -> None:
    free = dataclasses.replace(transfer, fees=[])
    assert compute_fees(free, {"use": "住宅"}) == []


def test_no_certificate_fee_when_the_form_cannot_ask_for_separate_certificates(transfer: BusinessTypeDef) -> None:
    without = copy.deepcopy(transfer)
    del without.application_schema["properties"]["separate_certificates"]
    items = compute_fees(without, {"use": "住宅", "separate_certificates": True}, holders=3)
    assert [i["code"] for i in items] == ["registration_residential"]


def test_each_certificate_after_the_first_costs_ten_yuan(transfer: BusinessTypeDef) -> None:
    items = compute_fees(transfer, {"use": "住宅", "separate_certificates": True}, holders=3)
    assert [(i["code"], i["amount_yuan"], i["payer_role"]) for i in items] == [
        ("registration_residential", 80, "buyer"), ("certificate_production", 20, "buyer")]
    assert fee_total_yuan(items) == 100
    one = compute_fees(transfer, {"use": "住宅", "separate_certificates": True}, holders=1)
    together = compute_fees(transfer, {"use": "住宅", "separate_certificates": False}, holders=3)
    assert fee_total_yuan(one) == fee_total_yuan(together) == 80


def test_a_registration_proof_carries_no_certificate_fee() -> None:
    mortgage = definition("mortgage_first")
    props = mortgage.application_schema["properties"]
    props["separate_certificates"] = {"type": "boolean", "title": "分别持证"}
    items = compute_fees(mortgage, {"use": "住宅", "separate_certificates": True}, holders=2)
    assert [i["code"] for i in items] == ["registration_residential"]


@pytest.mark.parametrize(("recorded", "typed", "amount"), [("非住宅", "住宅", 550), ("商业", "住宅", 550),
                                                           ("住宅", "非住宅", 80), ("车库", "非住宅", 80)])
def test_the_recorded_use_of_the_unit_decides_the_tariff(transfer: BusinessTypeDef, recorded: str, typed: str,
                                                         amount: int) -> None:
    items = compute_fees(transfer, {"use": typed}, recorded_use=recorded)
    assert [i["amount_yuan"] for i in items] == [amount]
    assert f"按登记簿记载的用途“{recorded}”计收" in items[0]["basis"] and f"申请填报为“{typed}”" in items[0]["basis"]
