"""Applying in the portal without JavaScript: the generated form (pre-filled from the verified identity),
field errors next to the fields, materials per checklist, the co-applicant's confirmation with the pledge,
submission with a business number; a draft can be left and resumed."""
from __future__ import annotations

import base64
import io
import re
from typing import Any

from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from support.forms import PDF, transfer_form
from test_portal_pages import csrf, sign_in

from app.demo import LI_SI, ZHANG_SAN
from app.identifiers import make_unit_code


def unit(n: int) -> str:
    return make_unit_code("330106", 1, 1, "GB", 100, 1, 100 + n)


def photo_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 170, 150)).save(out, format="JPEG")
    return out.getvalue()


def drawn_png(blank: bool = False) -> str:
    image = Image.new("RGBA", (320, 140), (255, 255, 255, 0))
    if not blank:
        ImageDraw.Draw(image).line([(20, 100), (120, 30), (220, 110), (300, 40)], fill=(20, 20, 90, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def face_and_sign(client: FlaskClient, case_id: str, *, typed: str | None = None, drawn: bool = False) -> None:
    """The no-JS path: a photo for the face check, then the pledge with a typed name or a drawing."""
    edit = f"/my/applications/{case_id}/edit"
    face = client.post(f"/my/applications/{case_id}/face", content_type="multipart/form-data",
                       data={"csrf_token": csrf(client, edit), "photo": (io.BytesIO(photo_jpeg()), "me.jpg")})
    assert face.status_code == 302, face.get_data(as_text=True)[-600:]
    data = {"csrf_token": csrf(client, edit), "pledge": "yes"}
    data.update({"signature_png": drawn_png()} if drawn else {"typed_name": typed or "", "typed_confirm": "yes"})
    signed = client.post(f"/my/applications/{case_id}/confirm", data=data)
    assert signed.status_code == 302, signed.get_data(as_text=True)[-600:]


def answer_inquiry(client: FlaskClient, case_id: str) -> None:
    path = f"/my/applications/{case_id}/inquiry"
    answers = {"voluntary": "是", "co_owners_agree": "无其他共有人", "disputes": "否", "price_true": "是",
               "remarks": "无"}
    resp = client.post(path, data={"csrf_token": csrf(client, path), **answers})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-600:]


def _needed(page: str) -> list[str]:
    return re.findall(r'<tr id="material-(\w+)">\s*<td><strong>[^<]+</strong> <span class="badge bad">必交', page)


def test_an_applicant_applies_online_from_form_to_submission(seeded: Any) -> None:
    seller, buyer = seeded.test_client(), seeded.test_client()
    sign_in(seller, "zhangsan")
    choose = seller.get("/apply/transfer_resale").get_data(as_text=True)
    assert choose.count("杭州市文三路") == 3  # 张三's own units offered first
    seized = seller.get("/apply/transfer_resale", query_string={"unit_code": unit(4)})
    assert seized.status_code == 422 and "已被查封" in seized.get_data(as_text=True)
    form_page = seller.get("/apply/transfer_resale", query_string={"unit_code": unit(1)}).get_data(as_text=True)
    assert f'value="{ZHANG_SAN["name"]}"' in form_page and "将自动填入您的实名认证信息" in form_page
    assert f'value="{unit(1)}"' in form_page

    fields = {k: str(v) for k, v in transfer_form().items()}
    bad = seller.post("/apply/transfer_resale", data={**fields, "buyer_id_number": "330110199007081234",
                                                     "csrf_token": csrf(seller, "/apply/transfer_resale")})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "受让方身份证号" in text
    assert 'class="field has-error" data-field="buyer_id_number"' in text

    token = csrf(seller, "/apply/transfer_resale")
    created = seller.post("/apply/transfer_resale", data={**fields, "csrf_token": token})
    assert created.status_code == 302
    edit_path = created.headers["Location"]
    case_id = edit_path.split("/")[-2]
    page = seller.get(edit_path).get_data(as_text=True)
    needed = _needed(page)
    assert "title_certificate" in needed and "seller_identity" not in needed
    # 公安 decides at submission: not asked for (issue 17), and the 申请书 is the platform's to make
    seller_row = page.split('<tr id="material-seller_identity">')[1].split("</tr>")[0]
    assert "由部门共享核验，无需上传" in seller_row and 'type="file"' not in seller_row
    form_row = page.split('<tr id="material-application_form" class="generated">')[1].split("</tr>")[0]
    assert "系统生成" in form_row and 'type="file"' not in form_row and "application_form" not in needed

    early = seller.post(f"/my/applications/{case_id}/submit", data={"csrf_token": csrf(seller, edit_path)})
    assert early.status_code == 422 and "请上传：" in early.get_data(as_text=True)
    for code in needed:
        resp = seller.post(f"/my/applications/{case_id}/materials", content_type="multipart/form-data",
                           data={"csrf_token": csrf(seller, edit_path), "code": code,
                                 "file": (io.BytesIO(PDF), f"{code}.pdf")})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    wrong = seller.post(f"/my/applications/{case_id}/materials", content_type="multipart/form-data",
                        data={"csrf_token": csrf(seller, edit_path), "code": "title_certificate",
                              "file": (io.BytesIO(b"not a pdf"), "x.pdf")})
    assert wrong.status_code == 422 and "只接受" in wrong.get_data(as_text=True)

    unpledged = seller.post(f"/my/applications/{case_id}/confirm", data={"csrf_token": csrf(seller, edit_path)})
    assert unpledged.status_code == 422 and "请阅读并勾选真实性承诺" in unpledged.get_data(as_text=True)
    face_and_sign(seller, case_id, typed=ZHANG_SAN["name"])
    waiting = seller.post(f"/my/applications/{case_id}/submit", data={"csrf_token": csrf(seller, edit_path)})
    text = waiting.get_data(as_text=True)
    assert waiting.status_code == 422 and "待受让方确认申请并签名" in text and "请完成询问笔录" in text
    answer_inquiry(seller, case_id)

    sign_in(buyer, "lisi")
    assert f'{LI_SI["name"]}' in buyer.get(edit_path).get_data(as_text=True)
    face_and_sign(buyer, case_id, drawn=True)
    done = seller.post(f"/my/applications/{case_id}/submit", data={"csrf_token": csrf(seller, edit_path)})
    assert done.status_code == 302
    detail = seller.get(done.headers["Location"]).get_data(as_text=True)
    assert "申请已提交，业务号" in detail and "受理中" in detail


def test_entrusted_types_cannot_be_applied_for(client: FlaskClient) -> None:
    sign_in(client, "zhangsan")
    assert client.get("/apply/seizure", headers={"Accept": "text/html"}).status_code == 403
