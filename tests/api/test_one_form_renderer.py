"""One JSON-Schema form renderer (app/form_render.py + templates/forms/render.html) for the portal's
application form, the admin's live preview and the workbench's window intake: the same fields, in the same
order, with the same widgets come out of the same schema on all three."""
from __future__ import annotations

import re
from typing import Any

from support.forms import transfer_form

from app.demo import DEMO_PASSWORD

FIELD = re.compile(r'<div class="field[^"]*" data-field="([a-z_]+)">')


def _page(seeded: Any, username: str, path: str) -> str:
    client = seeded.test_client()
    assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD}).status_code == 302
    resp = client.get(path)
    assert resp.status_code == 200, path
    return resp.get_data(as_text=True)


def test_portal_admin_preview_and_window_intake_render_the_form_alike(seeded: Any) -> None:
    seeded.config["WTF_CSRF_ENABLED"] = False
    unit = transfer_form()["unit_code"]
    portal = _page(seeded, "zhangsan", f"/apply/transfer_resale?unit_code={unit}")
    window = _page(seeded, "xh_acceptor", "/workbench/window?business_type=transfer_resale")
    admin = _page(seeded, "analyst", "/admin/forms/transfer_resale_application")
    fields = FIELD.findall(portal)
    assert len(fields) > 10 and "seller_id_number" in fields
    assert FIELD.findall(window) == fields
    assert FIELD.findall(admin) == fields  # the live preview (ids prefixed, same fields and order)
    for html in (portal, window):
        assert re.search(r'<input type="radio" name="use" value="住宅"', html)  # x-widget radio on every page
        assert 'id="f-seller_id_number"' in html
    assert 'id="f-preview-seller_id_number"' in admin
