"""Files at rest are sealed like the columns (SM4-GCM, a key per tenant): material scans, signature images and
certificate PDFs; removing a material removes its file; files of a rolled-back step never stay behind."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from support.cases import complete_stage
from support.forms import PDF, upload_missing

from app.security.crypto import DecryptionFailed
from app.security.file_crypto import FileCipher


def stored_files(app: Flask) -> list[Path]:
    root = app.extensions["storage"].root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_material_scans_and_certificates_are_sealed_on_disk_and_read_back(seeded: Flask, login: Any,
                                                                         submitted_transfer: dict) -> None:
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿"),
                            ("xh_certifier", "缮证")]:
        assert complete_stage(login(username), submitted_transfer["business_no"], stage).status_code == 200
    files = stored_files(seeded)
    assert len(files) >= 3 and not any("pending" in p.parts for p in files)
    for path in files:
        data = path.read_bytes()
        assert FileCipher.is_sealed(data), path
        assert b"%PDF" not in data and b"\x89PNG" not in data
    cert = login("lisi").get(f"/api/v1/applications/{submitted_transfer['id']}").get_json()["certificates"][0]
    pdf = login("lisi").get(f"/api/v1/certificates/{cert['id']}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_file_opens_only_for_its_tenant_and_name(seeded: Flask) -> None:
    cipher: FileCipher = seeded.extensions["storage"].cipher
    sealed = cipher.seal(b"ID card scan", tenant_id="330106", name="abc")
    assert cipher.open(sealed, tenant_id="330106", name="abc") == b"ID card scan"
    for tenant, name in (("330102", "abc"), ("330106", "abd")):
        with pytest.raises(DecryptionFailed):
            cipher.open(sealed, tenant_id=tenant, name=name)


def test_files_written_before_encryption_stay_readable(seeded: Flask) -> None:
    storage = seeded.extensions["storage"]
    with seeded.extensions["db"].unit_of_work() as session:
        key = storage.put(session, b"x", tenant_id="330106")
    storage._path(key).write_bytes(PDF)  # as an older release left it: no header
    assert storage.get(key, tenant_id="330106") == PDF


def test_removing_a_material_removes_its_file(seeded: Flask, login: Any) -> None:
    from support.forms import transfer_form

    seller = login("zhangsan")
    case_id = seller.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                       "form": transfer_form()}).get_json()["id"]
    before = set(stored_files(seeded))
    upload_missing(seller, case_id)
    added = set(stored_files(seeded)) - before
    materials = seller.get(f"/api/v1/applications/{case_id}").get_json()["materials"]
    assert len(added) == len(materials) >= 1
    resp = seller.delete(f"/api/v1/applications/{case_id}/materials/{materials[0]['id']}")
    assert resp.status_code == 204, resp.get_json()
    assert len(set(stored_files(seeded)) - before) == len(materials) - 1


def test_a_rolled_back_upload_leaves_no_file(seeded: Flask) -> None:
    storage = seeded.extensions["storage"]
    with pytest.raises(RuntimeError), seeded.extensions["db"].unit_of_work() as session:
        storage.put(session, b"scan", tenant_id="330106")
        assert len(stored_files(seeded)) == 1  # written (pending) before the commit decides
        raise RuntimeError("the step failed after the upload")
    assert stored_files(seeded) == []


def test_an_upload_refused_by_the_checklist_keeps_nothing(seeded: Flask, login: Any) -> None:
    from support.forms import transfer_form

    seller = login("zhangsan")
    case_id = seller.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                       "form": transfer_form()}).get_json()["id"]
    before = stored_files(seeded)
    resp = seller.post(f"/api/v1/applications/{case_id}/materials",
                       data={"code": "no_such_code", "file": (io.BytesIO(PDF), "x.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert stored_files(seeded) == before
