"""Application forms and materials: the demo transfer's form and small PDFs for the checklist."""
from __future__ import annotations

import io
from typing import Any

from support.personas import Api

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def transfer_form(**overrides: Any) -> dict[str, Any]:
    """张三's 西湖区 flat sold to 李四 (the demo data's transfer); ``overrides`` replace fields."""
    from app.demo import LI_SI
    from app.identifiers import make_unit_code

    form = {"unit_code": make_unit_code("330106", 1, 1, "GB", 100, 1, 101), "buyer_name": LI_SI["name"],
            "buyer_id_number": LI_SI["id_number"], "price": 2_350_000, "contract_no": "WQ2026-000123",
            "use": "住宅", "share_mode": "单独所有"}
    form.update(overrides)
    return form


def scan_jpeg() -> bytes:
    """A phone photo of a document: dark lines on paper (a uniform image is refused as blank, issue 17)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 560), (245, 243, 238))
    pen = ImageDraw.Draw(image)
    for row in range(40, 520, 24):
        pen.line([(30, row), (370 - (row * 7) % 120, row)], fill=(30, 30, 30), width=3)
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


def upload_material(api: Api, case_id: str, code: str) -> None:
    """Upload a small PDF as the checklist item ``code`` (e.g. an optional consent or statement)."""
    resp = api.post(f"/api/v1/applications/{case_id}/materials",
                    data={"code": code, "file": (io.BytesIO(PDF), f"{code}.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()


def upload_missing(api: Api, case_id: str) -> None:
    """Upload a small PDF for every checklist item the case still needs (never the 申请书: the platform
    generates it once everyone has signed)."""
    for code in api.get(f"/api/v1/applications/{case_id}").get_json()["materials_missing"]:
        upload_material(api, case_id, code)
