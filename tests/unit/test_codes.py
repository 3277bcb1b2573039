from datetime import date

import pytest

from app.identifiers import (
    InvalidIdentifier,
    check_division_code,
    check_id_card,
    check_unit_code,
    check_uscc,
    division_name,
    division_parent,
    format_unit_code,
    id_card_address_known,
    id_card_birth_date,
    id_card_sex,
    make_id_card,
    make_unit_code,
    make_uscc,
    unit_code_division,
    uscc_entity_type,
)
from app.identifiers import _uscc_check_char as _uscc_check

SAMPLE_ID = "11010519491231002X"
SAMPLE_UNIT = "330110119001GB04246F00080003"


def reason(fn, *args, **kwargs) -> str:
    with pytest.raises(InvalidIdentifier) as exc:
        fn(*args, **kwargs)
    assert isinstance(exc.value, ValueError)
    return exc.value.message


# ------------------------------------------------------------------ ID cards

def test_it_accepts_the_standard_sample_id_card_and_normalises_case_and_spaces():
    assert check_id_card(SAMPLE_ID) == SAMPLE_ID
    assert check_id_card(" 110105 19491231 002x ") == SAMPLE_ID
    assert check_id_card("１１０１０５１９４９１２３１００２Ｘ") == SAMPLE_ID  # full-width input


def test_it_rejects_an_id_card_with_a_wrong_check_character():
    assert reason(check_id_card, "110105194912310021") == "身份证号校验位错误"


def test_it_rejects_an_id_card_with_an_impossible_birth_date():
    body = "11010519490230002"  # 30 February
    assert reason(check_id_card, body + "0") == "身份证号出生日期无效"


def test_it_rejects_an_id_card_born_in_the_future():
    future = make_id_card("110105", date(2030, 1, 1), 1)
    assert reason(check_id_card, future, today=date(2026, 11, 1)) == "身份证号出生日期无效"
    assert check_id_card(future, today=date(2030, 1, 1)) == future


def test_it_rejects_id_cards_of_the_wrong_length_or_with_letters():
    assert reason(check_id_card, "110105194912310") == "身份证号应为18位"
    assert reason(check_id_card, "1101051949123100AX") == "身份证号格式不正确"
    assert reason(check_id_card, None) == "身份证号应为18位"


def test_it_accepts_residence_permits_and_foreigner_ids_that_share_the_layout():
    for prefix in ("810000", "820000", "830000", "911156"):
        number = make_id_card(prefix, date(1990, 5, 17), 123)
        assert check_id_card(number) == number


def test_it_only_soft_checks_the_address_code():
    abolished_or_unknown = make_id_card("110103", date(1980, 1, 1), 11)  # 崇文区, merged in 2010
    assert check_id_card(abolished_or_unknown) == abolished_or_unknown
    assert not id_card_address_known(make_id_card("119999", date(1980, 1, 1), 11))
    assert id_card_address_known(SAMPLE_ID)
    assert id_card_address_known(make_id_card("830000", date(1980, 1, 1), 11))


def test_it_reads_birth_date_and_sex_from_an_id_card():
    assert id_card_birth_date(SAMPLE_ID) == date(1949, 12, 31)
    assert id_card_sex(SAMPLE_ID) == "女"
    assert id_card_sex(make_id_card("330106", date(1985, 3, 2), 11)) == "男"


# ------------------------------------------------------------------ USCC

@pytest.mark.parametrize("code", ["91110000600037341L", "91350100M000100Y43"])
def test_it_accepts_the_published_uscc_test_vectors(code):
    assert check_uscc(code) == code
    assert check_uscc(code.lower()) == code


def test_it_rejects_a_uscc_with_a_wrong_check_character():
    assert reason(check_uscc, "91110000600037341K") == "统一社会信用代码校验位错误"


def test_it_rejects_a_uscc_whose_embedded_organisation_code_check_is_wrong():
    assert "组织机构代码校验位错误" in reason(check_uscc, "911100006000373X1L")


def test_it_rejects_a_uscc_with_letters_outside_the_alphabet_or_in_the_region_part():
    assert "无效字符" in reason(check_uscc, "91110000600037341I")
    assert "第3至8位" in reason(check_uscc, "9111A000600037341L")
    assert reason(check_uscc, "9111") == "统一社会信用代码应为18位"


def test_it_accepts_letter_prefixed_usccs_that_python_stdnum_rejects():
    code = make_uscc("N2", "330104", "MF000000")
    assert code[:2] == "N2" and check_uscc(code) == code
    assert check_uscc(make_uscc("Y1", "110000", "MB000000"))


def test_it_accepts_codes_whose_subject_code_was_not_issued_under_gb_11714():
    # "MF000000" has GB 11714 check 5, not 1: the 农业农村 (N) and 其他 (Y) authorities assign their own
    # 主体标识码, so only the GB 32100 check character counts for them.
    assert check_uscc("N2330104MF00000013") == "N2330104MF00000013"
    assert check_uscc("Y1110000MB00000011") == "Y1110000MB00000011"
    assert make_uscc("N2", "330110", "MF000002", subject_check="1").startswith("N2330110MF0000021")


def test_it_still_checks_the_embedded_organisation_code_of_market_regulation_codes():
    body = "91110000600037351"  # 60003735 has GB 11714 check 4, not 1
    assert "组织机构代码" in reason(check_uscc, body + _uscc_check(body))
    assert reason(check_uscc, "N2330104MF00000012") == "统一社会信用代码校验位错误"


def test_it_names_the_registering_authority_and_entity_type():
    assert uscc_entity_type("N2330104MF00000013") == "农业农村·村级集体经济组织"
    assert uscc_entity_type("91110000600037341L") == "市场监管·企业"


# ------------------------------------------------------------------ divisions

def test_the_division_list_holds_the_known_hangzhou_codes():
    assert division_name("330000") == "浙江省"
    assert division_name("330100") == "杭州市"
    assert division_name("330106") == "西湖区"
    assert division_name("330110") == "余杭区"
    assert division_parent("330110") == "330100"
    assert division_parent("330100") == "330000"
    assert division_parent("330000") is None
    assert division_name("999999") is None


def test_it_checks_division_codes_against_the_current_list():
    assert check_division_code(" 330110 ") == "330110"
    assert "不在现行" in reason(check_division_code, "330199")
    assert reason(check_division_code, "33011") == "行政区划代码应为6位数字"


def test_the_division_list_has_no_junk_entries():
    from app.identifiers import _divisions

    table = _divisions()
    assert len(table) > 3000
    assert all(code.isdigit() and len(code) == 6 for code in table)
    assert {d.level for d in table.values()} == {"province", "prefecture", "county"}


# ------------------------------------------------------------------ unit codes

def test_it_accepts_a_unit_code_in_display_form_and_normalises_it():
    assert check_unit_code("330110 119001 GB04246 F00080003") == SAMPLE_UNIT
    assert format_unit_code(SAMPLE_UNIT) == "330110 119001 GB04246 F00080003"
    assert unit_code_division(SAMPLE_UNIT) == "330110"


def test_it_rejects_unit_codes_of_the_wrong_length_or_shape():
    assert reason(check_unit_code, SAMPLE_UNIT[:-1]) == "不动产单元代码应为28位"
    assert reason(check_unit_code, SAMPLE_UNIT.replace("GB", "GI")) == "不动产单元代码格式不正确"


def test_it_rejects_a_unit_code_whose_division_is_not_a_current_county():
    assert "330199" in reason(check_unit_code, "330199" + SAMPLE_UNIT[6:])
    assert "330100" in reason(check_unit_code, "330100" + SAMPLE_UNIT[6:])  # prefecture with counties


def test_it_accepts_unit_codes_of_prefecture_cities_without_counties():
    code = make_unit_code("441900", 1, 1, "GB", 1, 1, 101)  # 东莞市
    assert unit_code_division(code) == "441900"


def test_it_enforces_the_parcel_code_pairing_rules():
    assert make_unit_code("330110", 119, 1, "JA", 12, 0, 0, fixture="W").endswith("W00000000")
    assert make_unit_code("330110", 119, 1, "JC", 12, 1, 1)
    assert make_unit_code("330110", 119, 1, "GH", 12, 0, 0, fixture="W")
    assert "集体所有" in reason(make_unit_code, "330110", 119, 1, "GC", 12, 1, 1)
    assert "集体所有" in reason(make_unit_code, "330110", 119, 1, "GA", 12, 0, 0, fixture="W")
    assert "国家所有" in reason(make_unit_code, "330110", 119, 1, "JH", 12, 0, 0, fixture="W")
    assert "国家所有" in reason(make_unit_code, "330110", 119, 1, "ZG", 12, 0, 0, fixture="W")


def test_it_requires_zero_fixture_number_when_there_is_no_fixture():
    assert "00000000" in reason(check_unit_code, "330110119001GB04246W00080003")


def test_it_rejects_virtual_unit_codes_unless_allowed():
    virtual = "330110000000GB04246F00080003"
    assert "虚拟" in reason(check_unit_code, virtual)
    assert check_unit_code(virtual, allow_virtual=True) == virtual
    assert "001至999" in reason(check_unit_code, "330110000001GB04246F00080003")
    assert "宗地顺序号" in reason(check_unit_code, "330110119001GB00000F00080003")


def test_generated_fictional_identifiers_pass_their_own_checks():
    assert make_id_card("110105", date(1949, 12, 31), 2) == SAMPLE_ID
    assert make_uscc("91", "110000", "60003734") == "91110000600037341L"
    assert make_unit_code("330110", 119, 1, "gb", 4246, 8, 3) == SAMPLE_UNIT


def test_it_normalises_mobile_numbers_with_country_code_spaces_and_hyphens():
    from app.identifiers import check_mobile

    assert check_mobile("+86 138-0000-0004") == "13800000004"
    assert check_mobile("0086１３８００００００04") == "13800000004"  # full-width digits pasted from a document


@pytest.mark.parametrize(("value", "message"), [("", "请填写手机号码"), ("1380000000", "手机号码应为11位"),
                                                ("1380000000a", "手机号码只能包含数字"),
                                                ("12800000000", "手机号码格式不正确，应以13–19开头")])
def test_it_rejects_bad_mobile_numbers_with_a_reason(value: str, message: str) -> None:
    from app.identifiers import check_mobile

    with pytest.raises(InvalidIdentifier) as exc:
        check_mobile(value)
    assert exc.value.message == message
