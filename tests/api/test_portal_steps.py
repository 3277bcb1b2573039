"""The step-by-step application (issue 17) without JavaScript: plain forms that post and redirect to the next
page; "第 n 步，共 m 步" on every page; the steps come from the definition (one page per material, the
contract and the 询问笔录 only for types that have them); errors in a summary at the top linked to their
fields; the answers are kept going back and forth and on an error; 核对 links each answer to its page."""
from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from support.forms import scan_jpeg, transfer_form
from test_portal_apply import drawn_png, photo_jpeg, unit
from test_portal_pages import csrf, sign_in

from app.demo import LI_SI, ZHANG_SAN


def step_count(html: str) -> tuple[int, int]:
    found = re.search(r'id="step-count">第 (\d+) 步，共 (\d+) 步<', html)
    assert found, html[:2000]
    return int(found.group(1)), int(found.group(2))


def shown_values(client: FlaskClient, path: str) -> dict[str, str]:
    """What a browser would send back untouched: the page's filled inputs and selected options."""
    html = client.get(path).get_data(as_text=True)
    values = dict(re.findall(r'<input type="(?:text|number|date)" id="[^"]+" name="([^"]+)" value="([^"]+)"', html))
    values.update(re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(?:\s*<option value="[^"]*">[^<]*</option>)*?'
                             r'\s*<option value="([^"]+)" selected>', html))
    values.update(re.findall(r'<input type="(?:radio|checkbox)" name="([^"]+)" value="([^"]+)"[^>]* checked>', html))
    return values


def post(client: FlaskClient, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf(client, path), **data}, **kw)


def test_a_seller_goes_through_the_steps_without_javascript(seeded: Any) -> None:
    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    guide = seller.get("/guide/transfer_resale").get_data(as_text=True)
    assert 'href="/apply/transfer_resale/steps"' in guide  # 在线申请 leads into the steps
    start = seller.get("/apply/transfer_resale/steps")
    assert start.status_code == 302 and start.headers["Location"].endswith("/steps/unit")
    page = seller.get("/apply/transfer_resale/steps/unit").get_data(as_text=True)
    assert step_count(page)[0] == 2 and page.count("杭州市文三路") == 3  # own units, one tap each
    seized = seller.get("/apply/transfer_resale/steps/unit", query_string={"unit_code": unit(4)})
    html = seized.get_data(as_text=True)
    assert seized.status_code == 422 and 'id="error-summary" role="alert" tabindex="-1" autofocus' in html
    assert '<a href="#unit_code">' in html and "已被查封" in html

    chosen = seller.get("/apply/transfer_resale/steps/unit", query_string={"unit_code": unit(1)})
    parties_path = chosen.headers["Location"]
    page = seller.get(parties_path).get_data(as_text=True)
    assert step_count(page)[0] == 3 and f'value="{ZHANG_SAN["name"]}"' in page  # pre-filled
    assert 'name="price"' not in page  # 申请信息 is the next page
    form = transfer_form()
    bad = post(seller, parties_path, {"unit_code": unit(1), "buyer_name": form["buyer_name"],
                                      "buyer_id_number": "330110199007081234"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and '<a href="#f-buyer_id_number">' in html
    assert 'aria-describedby="buyer_id_number-error"' in html and f'value="{form["buyer_name"]}"' in html  # kept
    made = post(seller, parties_path, {"unit_code": unit(1), "buyer_name": form["buyer_name"],
                                       "buyer_id_number": form["buyer_id_number"]})
    assert made.status_code == 302, made.get_data(as_text=True)[-2000:]
    info = made.headers["Location"]
    case_id = info.split("/")[3]
    assert info == f"/my/applications/{case_id}/steps/info"
    steps = f"/my/applications/{case_id}/steps"
    assert f'id="continue-steps" href="{steps}"' in seller.get(f"/my/applications/{case_id}").get_data(as_text=True)
    assert seller.get(steps).headers["Location"] == info  # back to a draft: its first page not done

    page = seller.get(info).get_data(as_text=True)
    n, total = step_count(page)
    assert n == 4 and f'href="{steps}/parties"' in page  # the back link
    shown = shown_values(seller, info)
    assert shown["location"] and shown["use"] == "住宅"  # from the register
    missing = post(seller, info, {**shown, "contract_no": form["contract_no"]})
    assert missing.status_code == 422 and '<a href="#f-price">' in missing.get_data(as_text=True)
    assert f'value="{form["contract_no"]}"' in missing.get_data(as_text=True)  # nothing typed is lost
    saved = post(seller, info, {**shown, "price": str(form["price"]), "contract_no": form["contract_no"]})
    assert saved.status_code == 302
    back = seller.get(f"{steps}/parties").get_data(as_text=True)  # going back: the answers are there
    assert f'value="{form["buyer_name"]}"' in back

    first_material = saved.headers["Location"]
    assert first_material.startswith(f"{steps}/material-")
    path = first_material
    uploads = 0
    while "/material-" in path:
        page = seller.get(path).get_data(as_text=True)
        assert 'accept="image/*" capture="environment"' in page
        empty = post(seller, path, {}, content_type="multipart/form-data")
        assert empty.status_code == 422 and '<a href="#file">' in empty.get_data(as_text=True)
        done = post(seller, path, {"file": (io.BytesIO(scan_jpeg()), "photo.jpg")},
                    content_type="multipart/form-data")
        assert done.status_code == 302, done.get_data(as_text=True)[-1500:]
        path, uploads = done.headers["Location"], uploads + 1
    assert uploads == 1 and path == f"{steps}/contract"  # 不动产权证书 only: the 申请书 is generated (issue 17)
    attached = post(seller, path, {})
    assert attached.status_code == 302, attached.get_data(as_text=True)[-2500:]
    assert attached.headers["Location"] == f"{steps}/inquiry"
    answers = {"voluntary": "是", "co_owners_agree": "无其他共有人", "disputes": "否", "price_true": "是"}
    partial = post(seller, f"{steps}/inquiry", answers)  # remarks missing
    html = partial.get_data(as_text=True)
    assert partial.status_code == 422 and '<a href="#q-remarks">' in html and 'value="是" checked' in html
    assert post(seller, f"{steps}/inquiry", {**answers, "remarks": "无"}).headers["Location"] == f"{steps}/check"

    check = seller.get(f"{steps}/check").get_data(as_text=True)
    assert f'href="{steps}/info?return_to=check#f-price"' in check and "2350000" in check
    assert "由部门共享核验，无需上传" in check  # 公安 checks the identities: no upload asked
    assert "系统生成" in check and "material-application_form" not in check  # the 申请书: made, not uploaded
    again = post(seller, f"{steps}/info?return_to=check", {**shown_values(seller, f"{steps}/info"),
                                                          "price": "2360000", "return_to": "check"})
    assert again.headers["Location"] == f"{steps}/check"  # 修改 returns to 核对
    face = post(seller, f"{steps}/face", {"photo": (io.BytesIO(photo_jpeg()), "me.jpg")},
                content_type="multipart/form-data")
    assert face.headers["Location"] == f"{steps}/sign"
    drawing = drawn_png()
    unpledged = post(seller, f"{steps}/sign", {"signature_png": drawing})
    html = unpledged.get_data(as_text=True)
    assert unpledged.status_code == 422 and '<a href="#pledge">' in html
    assert f'name="signature_png" value="{drawing}"' in html  # the drawing is kept to be shown again
    signed = post(seller, f"{steps}/sign", {"signature_png": drawing, "pledge": "yes"})
    assert signed.headers["Location"] == f"{steps}/submit"
    page = seller.get(f"{steps}/submit").get_data(as_text=True)
    assert step_count(page) == (total, total) and "待受让方确认申请并签名" in page
    early = post(seller, f"{steps}/submit", {})
    assert early.status_code == 422 and 'id="error-summary"' in early.get_data(as_text=True)

    buyer = seeded.test_client()  # the counterparty confirms on the one-page view
    sign_in(buyer, "lisi")
    assert buyer.get(f"{steps}/check").headers["Location"] == f"/my/applications/{case_id}/edit"  # read-only, masked
    edit = f"/my/applications/{case_id}/edit"
    assert buyer.post(f"/my/applications/{case_id}/face", content_type="multipart/form-data", data={
        "csrf_token": csrf(buyer, edit), "photo": (io.BytesIO(photo_jpeg()), "me.jpg")}).status_code == 302
    assert buyer.post(f"/my/applications/{case_id}/confirm", data={
        "csrf_token": csrf(buyer, edit), "pledge": "yes", "typed_name": LI_SI["name"],
        "typed_confirm": "yes"}).status_code == 302
    submitted = post(seller, f"{steps}/submit", {})
    assert submitted.status_code == 302 and submitted.headers["Location"] == f"/my/applications/{case_id}"
    assert seller.get(f"{steps}/check").status_code == 302  # a submitted case has no steps any more


def test_a_type_without_contract_or_inquiry_has_fewer_steps(seeded: Any) -> None:
    from app.catalog.service import current_version, version_definition
    from app.portal.step_plan import plan

    with seeded.extensions["db"].unit_of_work() as session:
        resale = plan(version_definition(current_version(session, "transfer_resale")))
        mortgage = plan(version_definition(current_version(session, "mortgage_first")))
    keys = [s.key for s in resale]
    assert keys[:4] == ["business", "unit", "parties", "info"] and keys[-4:] == ["check", "face", "sign", "submit"]
    assert "contract" in keys and "inquiry" in keys
    assert "contract" not in [s.key for s in mortgage] and "inquiry" not in [s.key for s in mortgage]
    fixed = ["business", "unit", "parties", "info", "check", "face", "sign", "submit"]
    assert len(mortgage) == len(fixed) + sum(s.key.startswith("material-") for s in mortgage)  # the count adjusts


def test_the_one_page_view_keeps_what_was_typed_on_an_error(seeded: Any, login: Any) -> None:
    created = login("zhangsan").post("/api/v1/applications",
                                     json={"business_type": "transfer_resale", "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    edit = f"/my/applications/{case_id}/edit"
    refused = seller.post(f"/my/applications/{case_id}/form", data={
        "csrf_token": csrf(seller, edit), "buyer_id_number": "330110199007081234", "contract_no": "WQ2026-000999"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and '<a href="#f-buyer_id_number">' in html
    assert 'value="WQ2026-000999"' in html and 'value="330110199007081234"' in html  # nothing typed is lost


def test_every_type_applied_for_online_has_its_steps(seeded: Any) -> None:
    """Types are data: each type's steps come from its definition, and its first page opens."""
    from app.catalog.service import enabled_definitions
    from app.portal.step_plan import party_fields, plan

    client = seeded.test_client()
    sign_in(client, "zhangsan")
    with seeded.extensions["db"].unit_of_work() as session:
        definitions = [d for _, d in enabled_definitions(session) if d.applicant_mode != "嘱托"]
    assert len(definitions) >= 5
    for definition in definitions:
        keys = [s.key for s in plan(definition)]
        assert party_fields(definition), definition.code
        assert keys[0] == "business" and keys[-1] == "submit" and len(keys) == len(set(keys)), definition.code
        first = client.get(f"/apply/{definition.code}/steps", follow_redirects=True)
        assert first.status_code == 200, definition.code
        assert step_count(first.get_data(as_text=True)) == (2, len(keys)), definition.code
