"""The body of an application sent across levels: its shape is checked before anything is filed, and the consent
binds exactly what the person confirmed (app/federation/applications.py)."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from app.demo import ZHANG_SAN
from app.errors import ValidationFailed
from app.federation import applications
from app.federation.assertion import Subject

UNIT = "330106001001GB00100F00010101"


def _body(**overrides: Any) -> dict[str, Any]:
    body = applications.build_body(
        origin="000000", ref="REF-unit-1", business_type="holder_change", unit_code=UNIT,
        form={"new_name": "张叁", "reason": "name_change"}, agreed_at="2026-12-06T10:00:00+08:00", statement="承诺",
        applicant=Subject(ZHANG_SAN["name"], ZHANG_SAN["id_number"], "face", "2026-12-01T08:00:00+00:00"),
        uploads=[applications.Upload("title_certificate", "t.pdf", b"%PDF-1.4 scan")])
    return {**body, **overrides}


def test_a_good_body_parses_with_its_digest() -> None:
    filing = applications.parse_filing(_body())
    assert (filing.origin, filing.ref, filing.unit_code) == ("000000", "REF-unit-1", UNIT)
    assert filing.form["unit_code"] == UNIT and filing.uploads[0].content == b"%PDF-1.4 scan"
    assert filing.applicants[0].id_number == ZHANG_SAN["id_number"]
    assert applications.parse_filing(_body()).content_sha256 == filing.content_sha256
    assert applications.parse_filing(_body(ref="REF-unit-2")).content_sha256 != filing.content_sha256


def test_every_malformed_part_is_named() -> None:
    bad = _body(ref="no spaces allowed", applicants=[{"name": "张三", "id_number": "330106198503120000"}],
                materials=[{"code": "title_certificate", "content": "not base64!"}], consent={})
    with pytest.raises(ValidationFailed) as refused:
        applications.parse_filing(bad)
    assert refused.value.code == "filing_invalid"
    assert set(refused.value.errors) == {"ref", "applicants", "materials", "consent"}
    with pytest.raises(ValidationFailed) as refused:
        applications.parse_filing([])
    assert refused.value.code == "filing_invalid"


def test_the_consent_binds_the_form_and_the_files() -> None:
    body = _body()
    changed_form = {**body, "form": {**body["form"], "new_name": "张叄"}}
    other_file = {**body, "materials": [{**body["materials"][0], "content": base64.b64encode(b"other").decode()}]}
    for tampered in (changed_form, other_file):
        with pytest.raises(ValidationFailed) as refused:
            applications.parse_filing(tampered)
        assert refused.value.code == "consent_mismatch"
