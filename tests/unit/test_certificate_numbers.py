"""证书号 / 证明号 (DOMAIN §3.5): format, parsing, one counter per office, year and kind, 废号 kept."""
from __future__ import annotations

from typing import Any

import pytest

from app.errors import ValidationFailed
from app.registry.certificate_numbers import format_number, next_seq, parse_number, void_number


def test_numbers_follow_the_national_pattern() -> None:
    assert format_number("浙", 2026, "西湖区", "title", 1) == "浙(2026)西湖区不动产权第0000001号"
    assert format_number("浙", 2026, "西湖区", "proof", 12) == "浙(2026)西湖区不动产证明第0000012号"
    assert format_number("浙", 2026, "杭州市", "no_property", 3) == "浙(2026)杭州市无房证明第0000003号"


def test_numbers_parse_back_with_half_or_full_width_brackets() -> None:
    assert parse_number("浙(2020)余杭区不动产权第0130664号") == {
        "province_abbr": "浙", "year": 2020, "area": "余杭区", "kind": "title", "seq": 130664}
    assert parse_number("京（2024）朝阳区不动产证明第0001234号")["kind"] == "proof"
    with pytest.raises(ValidationFailed):
        parse_number("浙(2020)余杭区不动产权第130664号")


def test_each_office_year_and_kind_counts_on_its_own(db: Any) -> None:
    with db.unit_of_work() as session:
        assert [next_seq(session, "330106", "title", 2026) for _ in range(3)] == [1, 2, 3]
        assert next_seq(session, "330106", "proof", 2026) == 1
        assert next_seq(session, "330110", "title", 2026) == 1
        assert next_seq(session, "330106", "title", 2027) == 1
    with db.unit_of_work() as session:  # the counter survives the transaction
        assert next_seq(session, "330106", "title", 2026) == 4


def test_a_rolled_back_issue_gives_its_number_back(db: Any) -> None:
    with db.unit_of_work() as session:
        assert next_seq(session, "330106", "title", 2026) == 1
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        assert next_seq(session, "330106", "title", 2026) == 2
        raise RuntimeError("printing failed")
    with db.unit_of_work() as session:
        assert next_seq(session, "330106", "title", 2026) == 2


def test_a_voided_number_stays_on_record_and_is_never_reused(seeded: Any, db: Any) -> None:
    from app.registry.certificates import verification
    from app.registry.models import Certificate

    with db.unit_of_work() as session:
        seq = next_seq(session, "330106", "title", 2026)
        cert = Certificate(tenant_id="330106", kind="title", number=format_number("浙", 2026, "西湖区", "title", seq),
                           year=2026, seq=seq, verify_code="VOIDTEST", summary={"number": "x"})
        session.add(cert)
        session.flush()
        void_number(session, cert, reason="打印错误，已重新缮证")
        with pytest.raises(ValidationFailed):
            void_number(session, cert, reason=" ")
    with db.unit_of_work() as session:
        kept = session.query(Certificate).filter_by(verify_code="VOIDTEST").one()
        assert (kept.status, kept.void_reason, kept.seq) == ("voided", "打印错误，已重新缮证", 1)
        assert next_seq(session, "330106", "title", 2026) == 2
        shown = verification(session, "VOIDTEST")
        assert shown["status"] == "revoked" and shown["reason"] == "voided" and shown["status_label"] == "已作废"
