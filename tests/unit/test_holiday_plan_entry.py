"""Reading a holiday plan as an operator types it from the State Council notice."""
from datetime import date

import pytest

from app.cases.holiday_plans import parse_dates, parse_entry
from app.errors import ValidationFailed


def test_dates_and_ranges_in_the_ways_a_notice_is_copied():
    text = "2027-01-01~2027-01-03\n2027-02-05至2027-02-07\n2027-05-01, 2027-05-02，2027-5-3、2027-10-01"
    assert parse_dates(text, 2027, "holidays") == [
        date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3), date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7),
        date(2027, 5, 1), date(2027, 5, 2), date(2027, 5, 3), date(2027, 10, 1)]
    assert parse_dates("  \n", 2027, "workdays") == []


@pytest.mark.parametrize(("text", "message"), [
    ("2027-02-30", "无法识别的日期“2027-02-30”"),
    ("明天", "无法识别的日期“明天”"),
    ("2026-12-31", "应为 2027 年内"),
    ("2027-02-11~2027-02-05", "应为 2027 年内"),
    ("2027-01-01~2027-03-01", "不超过一个月"),
])
def test_a_date_that_is_not_of_the_year_is_refused_by_name(text, message):
    with pytest.raises(ValidationFailed) as exc:
        parse_dates(text, 2027, "holidays")
    assert message in exc.value.errors["holidays"][0]


def test_an_entry_needs_a_year_days_off_a_source_and_no_day_both_off_and_working():
    entry = parse_entry("2027", "2027-02-05~2027-02-11", "2027-02-20", " 国办发明电〔2026〕1号 ")
    assert (entry.year, entry.source, entry.workdays) == (2027, "国办发明电〔2026〕1号", [date(2027, 2, 20)])
    assert len(entry.holidays) == 7
    with pytest.raises(ValidationFailed) as exc:
        parse_entry("2027", "2027-02-05~2027-02-11", "2027-02-06", "")
    assert set(exc.value.errors) == {"workdays", "source"}
    with pytest.raises(ValidationFailed) as exc:
        parse_entry("两千", "", "", "x")
    assert set(exc.value.errors) == {"year"}
