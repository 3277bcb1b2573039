import pytest

from app.security.masking import mask_id_number, mask_name, mask_phone, mask_uscc


def test_it_masks_the_middle_of_a_chinese_name():
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_name(" 张三 ") == "张*"


def test_it_masks_a_single_character_name_completely():
    assert mask_name("张") == "*"


def test_it_masks_an_id_number_keeping_the_first_and_last_four():
    assert mask_id_number("11010519491231002X") == "1101**********002X"


def test_it_masks_a_phone_number_keeping_prefix_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_it_masks_a_uscc_keeping_the_first_and_last_four():
    assert mask_uscc("91110000600037341L") == "9111**********341L"


@pytest.mark.parametrize("fn", [mask_name, mask_id_number, mask_phone, mask_uscc])
@pytest.mark.parametrize("empty", [None, "", "   "])
def test_every_mask_tolerates_missing_values(fn, empty):
    assert fn(empty) == ""


@pytest.mark.parametrize("fn", [mask_id_number, mask_phone, mask_uscc])
@pytest.mark.parametrize("value", ["1", "12", "123", "1234", "123456", "1234567", "110105491231002"])
def test_short_values_never_show_more_than_half(fn, value):
    masked = fn(value)
    assert len(masked) == len(value)
    shown = sum(1 for c in masked if c != "*")
    assert shown <= len(value) // 2
    assert "*" in masked


def test_a_short_value_keeps_some_context_at_both_ends():
    assert mask_phone("12345678") == "12****78"
