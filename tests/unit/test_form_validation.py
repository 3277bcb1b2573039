"""Server-side form validation: cleaned data back, or Chinese messages per field named by the field title."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.catalog.forms import pii_fields, prefill_fields, validate_form_data
from app.errors import ValidationFailed
from app.identifiers import make_id_card, make_unit_code, make_uscc

FORMS = Path(__file__).resolve().parents[2] / "forms"
SELLER_ID = make_id_card("110105", date(1970, 3, 1), 12)
BUYER_ID = make_id_card("110105", date(1990, 7, 9), 19)
UNIT = make_unit_code("110105", 1, 2, "GB", 12, 3, 402)
BANK = make_uscc("91", "110000", "MA01ABCD")


def with_wrong_check_char(code: str) -> str:
    return code[:-1] + ("1" if code[-1] == "0" else "0")


def form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))


def transfer(**changes: Any) -> dict[str, Any]:
    data = {"unit_code": UNIT, "seller_name": "张三", "seller_id_number": SELLER_ID, "buyer_name": "李四",
            "buyer_id_number": BUYER_ID, "price": 1_500_000, "contract_no": "WQ2026001234"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(schema: dict[str, Any], data: dict[str, Any], **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as exc:
        validate_form_data(schema, data, **kwargs)
    assert exc.value.message == "表单填写有误"
    return exc.value.errors


def test_a_valid_transfer_application_passes_with_defaults_filled_in() -> None:
    cleaned = validate_form_data(form("transfer_resale_application"), transfer())
    assert cleaned["buyer_name"] == "李四"
    assert (cleaned["use"], cleaned["share_mode"], cleaned["has_agent"]) == ("住宅", "单独所有", False)


def test_identifiers_come_back_normalised() -> None:
    id_with_x = make_id_card("110105", date(1949, 12, 31), 2)
    assert id_with_x.endswith("X")
    cleaned = validate_form_data(form("transfer_resale_application"),
                                 transfer(buyer_id_number=f" {id_with_x.lower()} "))
    assert cleaned["buyer_id_number"] == id_with_x


def test_missing_required_fields_are_named_by_their_chinese_titles() -> None:
    errors = errors_of(form("transfer_resale_application"), transfer(buyer_name=None, contract_no=None))
    assert errors == {"buyer_name": ["请填写受让方姓名"], "contract_no": ["请填写网签备案合同编号"]}


def test_empty_strings_from_html_forms_count_as_missing() -> None:
    errors = errors_of(form("transfer_resale_application"), transfer(buyer_name="  "))
    assert errors == {"buyer_name": ["请填写受让方姓名"]}


def test_a_wrong_id_card_check_digit_is_reported_on_that_field() -> None:
    errors = errors_of(form("transfer_resale_application"), transfer(buyer_id_number=with_wrong_check_char(BUYER_ID)))
    assert errors == {"buyer_id_number": ["受让方身份证号：身份证号校验位错误"]}


def test_a_malformed_unit_code_is_reported_with_the_identifier_rule() -> None:
    errors = errors_of(form("transfer_resale_application"), transfer(unit_code="123"))
    assert errors["unit_code"][0].startswith("不动产单元号：")


def test_an_enum_value_outside_the_choices_lists_the_choices() -> None:
    errors = errors_of(form("transfer_resale_application"), transfer(use="别墅", share_mode="AA制"))
    assert errors == {"use": ["房屋用途只能选择：住宅、非住宅"],
                      "share_mode": ["共有方式只能选择：单独所有、共同共有、按份共有"]}


def test_the_price_must_be_positive_and_numeric() -> None:
    schema = form("transfer_resale_application")
    assert errors_of(schema, transfer(price=0)) == {"price": ["成交价格（元）必须大于 0"]}
    assert errors_of(schema, transfer(price="一百万")) == {"price": ["成交价格（元）应为数字"]}


def test_numbers_and_booleans_typed_into_html_inputs_are_coerced() -> None:
    cleaned = validate_form_data(form("transfer_resale_application"), transfer(
        price="1,500,000.50", has_agent="true", agent_name="王五", agent_id_number=SELLER_ID))
    assert cleaned["price"] == 1_500_000.5
    assert cleaned["has_agent"] is True


def test_unknown_fields_are_refused_on_that_field() -> None:
    errors = errors_of(form("transfer_resale_application"), transfer(discount=1))
    assert errors == {"discount": ["不允许的字段"]}


def test_an_agent_must_be_named_when_the_application_says_there_is_one() -> None:
    errors = errors_of(form("transfer_resale_application"), transfer(has_agent=True))
    assert errors == {"agent_name": ["请填写代理人姓名"], "agent_id_number": ["请填写代理人身份证号"]}


def test_pattern_and_length_violations_read_as_chinese_sentences() -> None:
    errors = errors_of(form("transfer_resale_application"), transfer(buyer_phone="12345", contract_no="W1"))
    assert errors == {"buyer_phone": ["受让方手机号格式不正确"], "contract_no": ["网签备案合同编号至少需要 4 个字"]}


def test_a_draft_skips_required_fields_but_still_checks_what_was_entered() -> None:
    schema = form("transfer_resale_application")
    assert validate_form_data(schema, {"buyer_name": "李四"}, partial=True) == {"buyer_name": "李四"}
    errors = errors_of(schema, {"buyer_id_number": "110105"}, partial=True)
    assert errors == {"buyer_id_number": ["受让方身份证号：身份证号应为18位"]}


def test_the_mortgage_form_checks_the_mortgagees_credit_code_and_the_dates() -> None:
    schema = form("mortgage_first_application")
    data = {"unit_code": UNIT, "cert_no": "京（2020）朝阳区不动产权第0012345号", "mortgagor_name": "张三",
            "mortgagor_id_number": SELLER_ID, "mortgagee_name": "某银行北京分行", "mortgagee_uscc": BANK,
            "debt_amount": 1_000_000, "debt_start": "2026-01-01", "debt_end": "2046-01-01", "contract_no": "DY2026001"}
    cleaned = validate_form_data(schema, data)
    assert cleaned["mortgage_kind"] == "一般抵押" and cleaned["transfer_restricted"] is False
    errors = errors_of(schema, {**data, "mortgagee_uscc": with_wrong_check_char(BANK), "debt_end": "2046-02-30"})
    assert errors["mortgagee_uscc"][0].startswith("抵押权人统一社会信用代码：")
    assert errors["debt_end"] == ["债务履行期限截止日期应为有效日期（格式：YYYY-MM-DD）"]


def test_a_decision_outside_the_choices_lists_the_chinese_labels() -> None:
    errors = errors_of(form("decision_accept"), {"decision": "maybe", "opinion": "好"})
    assert errors == {"decision": ["受理结论只能选择：予以受理、不予受理、需补正"],
                      "opinion": ["受理意见至少需要 2 个字"]}


def test_asking_for_correction_requires_the_items_to_correct() -> None:
    errors = errors_of(form("decision_accept"), {"decision": "correct", "opinion": "材料不全"})
    assert errors == {"correction_items": ["请填写需补正的事项"]}
    cleaned = validate_form_data(form("decision_accept"), {
        "decision": "correct", "opinion": "材料不全", "correction_items": ["补充婚姻状况证明", " "]})
    assert cleaned["correction_items"] == ["补充婚姻状况证明"]


def test_refusing_registration_requires_reasons() -> None:
    errors = errors_of(form("decision_review"), {"decision": "reject", "opinion": "存在权属争议"})
    assert errors == {"reject_reasons": ["请填写不予登记理由"]}


def test_the_applicants_correction_reply_is_optional() -> None:
    assert validate_form_data(form("correction"), {}) == {}


def test_pii_and_prefill_fields_come_from_the_annotations() -> None:
    schema = form("transfer_resale_application")
    assert {"seller_name", "seller_id_number", "buyer_name", "buyer_id_number", "buyer_phone"} <= pii_fields(schema)
    assert "price" not in pii_fields(schema)
    assert prefill_fields(schema) == {"seller_name": "identity.real_name", "seller_id_number": "identity.id_number",
                                      "seller_phone": "identity.phone"}
