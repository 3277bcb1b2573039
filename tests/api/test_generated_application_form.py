"""The 不动产登记申请书 is generated, never uploaded (issue 17): once every party has signed, the platform
makes it from the answers with each party's signature and signing time, signs it with the office key and
attaches it as the checklist item; a change and new signatures make it again. A blank photo or an empty
PDF is refused, naming the material."""
from __future__ import annotations

import io
import random
import re
from typing import Any

from PIL import Image, ImageDraw
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from support.cases import make_application_forms
from support.forms import transfer_form
from test_portal_apply import face_and_sign, unit
from test_portal_pages import csrf, sign_in

from app.casefile.models import Case, Material
from app.demo import LI_SI, ZHANG_SAN


def _forms(seeded: Any, case_id: str) -> list[tuple[str, bytes]]:
    """(sha256, PDF) of every 申请书 the case holds, once what the last signature asked for is made."""
    make_application_forms(seeded)
    with seeded.extensions["db"].unit_of_work() as session:
        case = session.get(Case, case_id)
        rows = session.execute(select(Material).where(Material.case_id == case_id,
                                                      Material.code == "application_form")).scalars().all()
        storage = seeded.extensions["storage"]
        return [(m.sha256, storage.get(m.storage_key, tenant_id=case.tenant_id)) for m in rows]


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "")


def _draft(seeded: Any) -> tuple[Any, Any, str]:
    seller, buyer = seeded.test_client(), seeded.test_client()
    sign_in(seller, "zhangsan")
    sign_in(buyer, "lisi")
    fields = {k: str(v) for k, v in transfer_form(unit_code=unit(1)).items()}
    token = csrf(seller, "/apply/transfer_resale")
    created = seller.post("/apply/transfer_resale", data={**fields, "csrf_token": token})
    assert created.status_code == 302, created.get_data(as_text=True)[-600:]
    return seller, buyer, created.headers["Location"].split("/")[-2]


def test_the_form_is_generated_when_all_have_signed_and_again_after_a_change(seeded: Any, login: Any) -> None:
    seller, buyer, case_id = _draft(seeded)
    face_and_sign(seller, case_id, typed=ZHANG_SAN["name"])
    assert _forms(seeded, case_id) == []  # the buyer has not signed yet
    face_and_sign(buyer, case_id, drawn=True)

    [(first_sha, pdf)] = _forms(seeded, case_id)
    text = _text(pdf)
    for expected in ("不动产登记申请书", "存量房", ZHANG_SAN["name"], LI_SI["name"], unit(1),
                     "网签备案合同编号：WQ2026-000123", "成交价格（元）：2350000", "签名时间", "手写签名"):
        assert expected in text, expected
    assert len(PdfReader(io.BytesIO(pdf)).pages[-1].images) >= 2  # both signature images
    assert len(PdfFileReader(io.BytesIO(pdf)).embedded_signatures) == 1  # the office key's signature
    api = login("zhangsan")
    case = api.get(f"/api/v1/applications/{case_id}").get_json()
    assert all(p["confirmed"] for p in case["parties"])  # attaching it voided nobody
    assert "application_form" not in case["materials_missing"]
    refused = api.post(f"/api/v1/applications/{case_id}/materials", content_type="multipart/form-data",
                       data={"code": "application_form", "file": (io.BytesIO(pdf), "a.pdf")})
    assert refused.status_code == 422 and "无需上传" in str(refused.get_json())

    assert api.patch(f"/api/v1/applications/{case_id}", json={"form": {"price": 2400000}}).status_code == 200
    face_and_sign(seller, case_id, typed=ZHANG_SAN["name"])
    face_and_sign(buyer, case_id, drawn=True)
    [(second_sha, again)] = _forms(seeded, case_id)
    assert second_sha != first_sha and "成交价格（元）：2400000" in _text(again)


def test_the_form_shows_only_what_was_signed_when_the_content_changes_before_it_is_made(seeded: Any,
                                                                                          login: Any) -> None:
    """The form is made after the last signature's commit: a change in between voids the signatures, and the
    form is not made from content nobody signed; signing again makes it from the new content."""
    from app.cases.application_form import due_ids, make_now

    seller, buyer, case_id = _draft(seeded)
    face_and_sign(seller, case_id, typed=ZHANG_SAN["name"])
    face_and_sign(buyer, case_id, drawn=True)
    with seeded.extensions["db"].unit_of_work() as session:
        assert case_id in due_ids(session)  # marked by the last signature, not yet made (no response closed)
    api = login("zhangsan")
    assert api.patch(f"/api/v1/applications/{case_id}", json={"form": {"price": 2400000}}).status_code == 200
    assert make_now(seeded, [case_id]) == 0  # the signed content changed: nothing made
    assert _forms(seeded, case_id) == []
    face_and_sign(seller, case_id, typed=ZHANG_SAN["name"])
    face_and_sign(buyer, case_id, drawn=True)
    [(_, pdf)] = _forms(seeded, case_id)
    assert "成交价格（元）：2400000" in _text(pdf)


def _png(draw: bool) -> bytes:
    image = Image.new("RGB", (800, 600), (250, 250, 250))
    if draw:
        rng = random.Random(1)
        pen = ImageDraw.Draw(image)
        for _ in range(40):
            pen.text((rng.randrange(700), rng.randrange(560)), "不动产权证书 No.123", fill=(20, 20, 20))
            pen.line([(rng.randrange(800), rng.randrange(600)) for _ in range(2)], fill=(40, 40, 40), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _empty_pdf() -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def test_a_blank_photo_or_an_empty_pdf_is_refused_naming_the_material(login: Any) -> None:
    api = login("zhangsan")
    case_id = api.post("/api/v1/applications", json={"business_type": "transfer_resale",
                                                     "form": transfer_form()}).get_json()["id"]

    def upload(content: bytes, name: str) -> Any:
        return api.post(f"/api/v1/applications/{case_id}/materials", content_type="multipart/form-data",
                        data={"code": "title_certificate", "file": (io.BytesIO(content), name)})

    for content, name in ((_png(False), "blank.png"), (_empty_pdf(), "empty.pdf")):
        resp = upload(content, name)
        assert resp.status_code == 422, resp.get_json()
        assert "“不动产权证书”" in str(resp.get_json()) and "空白" in str(resp.get_json())
    assert upload(_png(True), "scan.png").status_code == 201


def test_the_clerk_sees_and_downloads_the_generated_form_on_the_case_page(seeded: Any,
                                                                          submitted_transfer: dict) -> None:
    from test_workbench_pages import Page

    clerk = Page(seeded.test_client(), "xh_acceptor")
    case_id = submitted_transfer["id"]
    page = clerk.get(f"/workbench/cases/{case_id}").get_data(as_text=True)
    row = page.split('<tr id="material-application_form">')[1].split("</tr>")[0]
    assert "系统生成" in row and "缺" not in row
    [(sha, stored)] = _forms(seeded, case_id)
    material_id = re.search(r'href="#m-(\w+)"', row)[1]  # type: ignore[index]
    resp = clerk.get(f"/workbench/cases/{case_id}/materials/{material_id}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data == stored
    assert "账户电子签名" in _text(stored)  # both parties confirmed through the API with their accounts
