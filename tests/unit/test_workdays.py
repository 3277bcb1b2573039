from datetime import date

import pytest

from app.engine import workdays
from app.engine.workdays import (
    WorkCalendar,
    YearSchedule,
    add_working_days,
    is_working_day,
    working_days_between,
)
from app.errors import DefinitionError


@pytest.fixture
def overrides(tmp_path, monkeypatch):
    """Point the module at a temporary override table; caches are cleared before and after."""
    path = tmp_path / "workday_overrides.yaml"
    monkeypatch.setattr(workdays, "OVERRIDES_YAML", path)
    workdays._overrides.cache_clear()
    yield path
    workdays._overrides.cache_clear()


def test_the_domain_example_mid_autumn_plus_five_working_days():
    assert add_working_days(date(2026, 9, 25), 5) == date(2026, 10, 9)


def test_the_start_day_is_never_counted():
    assert add_working_days(date(2026, 11, 2), 1) == date(2026, 11, 3)  # Monday → Tuesday
    assert add_working_days(date(2026, 11, 6), 1) == date(2026, 11, 9)  # Friday → Monday
    assert add_working_days(date(2026, 11, 2), 0) == date(2026, 11, 2)


def test_a_spring_festival_make_up_saturday_counts_as_a_working_day():
    assert is_working_day(date(2026, 2, 14))  # Saturday, 调休
    assert not is_working_day(date(2026, 2, 16))  # 除夕 (a statutory holiday since 2025)
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 27), 1) == date(2026, 2, 28)  # the second make-up Saturday


def test_a_make_up_sunday_from_an_earlier_year_is_known():
    assert is_working_day(date(2025, 1, 26))
    assert not is_working_day(date(2025, 1, 28))


def test_ordinary_weekends_are_not_working_days():
    assert not is_working_day(date(2026, 11, 7))
    assert not is_working_day(date(2026, 11, 8))
    assert is_working_day(date(2026, 11, 9))


def test_thirty_working_days_from_acceptance():
    accepted = date(2026, 9, 1)
    deadline = add_working_days(accepted, 30)
    # Counted by hand: 14 days incl. make-up Sunday 9-20, 9-25 and 10-1..10-7 off, make-up Saturday 10-10.
    assert deadline == date(2026, 10, 19)
    assert working_days_between(accepted, deadline) == 30


def test_working_days_between_is_the_inverse_of_adding():
    a = date(2026, 1, 1)
    for n in (0, 1, 5, 17, 60, 200):
        assert working_days_between(a, add_working_days(a, n)) == n
    assert working_days_between(date(2026, 10, 9), date(2026, 9, 25)) == -5


def test_a_year_without_a_published_plan_counts_its_statutory_holidays_and_is_provisional():
    # 2027: 元旦 Fri 1-1; 春节 除夕 Fri 2-5 to 初三 Mon 2-8, the weekend days made up on Tue 2-9 and Wed 2-10.
    assert add_working_days(date(2026, 12, 28), 5) == date(2027, 1, 5)  # 12-29..12-31, 1-4, 1-5
    assert not is_working_day(date(2027, 1, 1))
    assert [is_working_day(date(2027, 2, d)) for d in range(4, 12)] == [True, False, False, False, False, False,
                                                                        False, True]
    assert not is_working_day(date(2027, 2, 6))  # no 调休 is guessed: a Saturday stays a day off
    calendar = WorkCalendar()
    assert calendar.is_provisional(2027) and not calendar.is_provisional(2026)
    assert calendar.provisional_between(date(2026, 12, 28), date(2027, 1, 5))
    assert not calendar.provisional_between(date(2026, 11, 2), date(2026, 12, 31))


def test_far_years_still_have_an_answer():
    assert add_working_days(date(2100, 12, 30), 3) > date(2101, 1, 1)  # past the lunar tables: weekends only


def test_an_entered_plan_confirms_the_year_and_wins_over_the_statutory_computation():
    plan = YearSchedule(holidays=frozenset(date(2027, 2, d) for d in range(5, 12)),
                        workdays=frozenset({date(2027, 2, 20)}))
    calendar = WorkCalendar({2027: plan})
    assert not calendar.is_provisional(2027)
    assert not calendar.is_working_day(date(2027, 2, 11))  # a bridging day off
    assert calendar.is_working_day(date(2027, 2, 20))  # a make-up Saturday
    assert not calendar.is_working_day(date(2027, 1, 1))  # statutory days stay off even if not listed
    assert calendar.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 12)
    assert WorkCalendar().add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 11)


def test_negative_counts_are_a_programming_error():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)


def test_the_override_table_adds_a_new_year_and_wins_over_the_package(overrides):
    overrides.write_text(
        "last_year_with_adjustments: 2027\n"
        "2026:\n  holidays: [2026-11-09]\n  workdays: [2026-11-07]\n"
        "2027:\n  holidays: []\n  workdays: [2027-02-06]\n",
        encoding="utf-8",
    )
    assert is_working_day(date(2026, 11, 7))
    assert not is_working_day(date(2026, 11, 9))
    assert is_working_day(date(2027, 2, 6))
    assert add_working_days(date(2026, 12, 28), 5) == date(2027, 1, 5)


def test_the_shipped_override_table_is_valid():
    last, years = workdays._overrides()
    assert last >= 2026 and all(y <= last for y in years)


@pytest.mark.parametrize("text", [
    "2026:\n  holidays: []\n",
    "last_year_with_adjustments: 2026\n2027:\n  holidays: []\n",
    "last_year_with_adjustments: 2026\n2026:\n  holidays: [2025-01-01]\n",
    "last_year_with_adjustments: 2026\n2026:\n  holidays: [2026-11-09]\n  workdays: [2026-11-09]\n",
])
def test_a_broken_override_table_fails_loudly(overrides, text):
    overrides.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError):
        is_working_day(date(2026, 11, 9))
