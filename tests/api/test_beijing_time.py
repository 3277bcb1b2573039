"""Beijing time is the platform's time: a case submitted at 01:30 on 1 January in Beijing (17:30 UTC on
31 December) gets the new year's business number, and the applicant's pages show Beijing times and dates
(found: last year's business number before 08:00; portal times 8 hours behind, the list's date the UTC date)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from support.cases import submit_transfer
from support.clock import frozen_clock

from app import clock


def test_clock_turns_stored_utc_into_beijing_time() -> None:
    evening = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)
    assert clock.beijing_date(evening) == date(2027, 1, 1)
    assert clock.local_time(evening) == "2027-01-01 01:30"
    assert clock.local_time("2026-12-31T17:30:00+00:00") == "2027-01-01 01:30"  # ISO strings of API dicts
    assert clock.local_time(datetime(2026, 12, 31, 17, 30)) == "2027-01-01 01:30"  # naive values are stored UTC
    assert clock.local_date("2026-12-31T15:59:59+00:00") == "2026-12-31"
    assert clock.local_time(None) == "—"


def test_a_case_submitted_after_midnight_in_beijing_belongs_to_the_new_day(login: Any, page_login: Any) -> None:
    with frozen_clock("2026-12-31 17:30:00"):
        case = submit_transfer(login)
        assert case["business_no"].startswith("2027330106")
        assert clock.beijing_today() == date(2027, 1, 1)
        seller = page_login("zhangsan")
        listing = seller.get("/my/applications").get_data(as_text=True)
        assert "2027-01-01" in listing and "2026-12-31" not in listing
        page = seller.get(f"/my/applications/{case['id']}").get_data(as_text=True)
        assert "2027-01-01 01:3" in page and "2026-12-31 17:3" not in page
