"""A case on a version stored before the 申请书 became ``generated: application_form`` (issue 17): its checklist
lists the 申请书 as an upload, yet the applicant is never asked for one — the platform makes it once every party
has signed, as on the newer versions (app/catalog/stored.py)."""
from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from support.cases import make_application_forms
from support.forms import transfer_form
from test_portal_apply import face_and_sign
from test_portal_pages import sign_in

from app.casefile.models import Case, Material
from app.catalog.models import BusinessType, ProcessVersion
from app.demo import ZHANG_SAN

CODE = "transfer_resale"


def store_older_version(seeded: Any) -> tuple[str, str]:
    """(older id, current id): the current version as older code stored it — no ``generated`` key in the
    checklist, the 申请书 an upload — made current for a while so a case starts on it."""
    with seeded.extensions["db"].unit_of_work() as session:
        bt = session.get_one(BusinessType, CODE)
        current = session.get_one(ProcessVersion, bt.current_version_id)
        definition = copy.deepcopy(current.definition)
        for item in definition["materials"]:
            item.pop("generated")
        form = next(m for m in definition["materials"] if m["code"] == "application_form")
        form["description"] = "申请人填写后打印、签字，扫描上传。"
        last = session.execute(select(ProcessVersion.version_no)
                               .where(ProcessVersion.business_type_code == CODE)
                               .order_by(ProcessVersion.version_no.desc())).scalars().first()
        older = ProcessVersion(business_type_code=CODE, version_no=(last or 0) + 1,
                               content_sha256="0" * 64, process_id=current.process_id, bpmn_xml=current.bpmn_xml,
                               spec_json=current.spec_json, definition=definition)
        older.ensure_id()
        session.add(older)
        session.flush()
        bt.current_version_id = older.id
        return older.id, current.id


def test_a_case_on_an_older_version_gets_the_generated_application_form(seeded: Any, login: Any) -> None:
    older_id, current_id = store_older_version(seeded)
    seller_api = login("zhangsan")
    created = seller_api.post("/api/v1/applications", json={"business_type": CODE, "form": transfer_form()})
    assert created.status_code == 201, created.get_json()
    case_id = created.get_json()["id"]
    with seeded.extensions["db"].unit_of_work() as session:
        session.get_one(BusinessType, CODE).current_version_id = current_id  # a newer version is published
        case = session.get_one(Case, case_id)
        assert case.process_version_id == older_id
        stored = session.get_one(ProcessVersion, older_id).definition
        assert all("generated" not in m for m in stored["materials"])  # as older code wrote it

    seller = seeded.test_client()
    sign_in(seller, "zhangsan")
    steps = f"/my/applications/{case_id}/steps"
    check = seller.get(f"{steps}/check").get_data(as_text=True)
    assert "material-application_form" not in check and "系统生成：各方签名后自动生成，无需上传" in check
    edit = seller.get(f"/my/applications/{case_id}/edit").get_data(as_text=True)
    assert 'name="code" value="application_form"' not in edit  # no upload control for it
    case = seller_api.get(f"/api/v1/applications/{case_id}").get_json()
    assert "application_form" not in case["materials_missing"]

    face_and_sign(seller, case_id, typed=ZHANG_SAN["name"])
    buyer = seeded.test_client()
    sign_in(buyer, "lisi")
    face_and_sign(buyer, case_id, drawn=True)
    make_application_forms(seeded)  # made after the last signature's commit
    with seeded.extensions["db"].unit_of_work() as session:
        made = session.execute(select(Material).where(Material.case_id == case_id,
                                                      Material.code == "application_form")).scalars().all()
        assert [m.filename for m in made] == ["不动产登记申请书.pdf"]  # made by the platform, none uploaded
    submit = seller.get(f"{steps}/submit").get_data(as_text=True)
    assert 'id="still-to-do"' in submit and "不动产登记申请书" not in submit  # 不动产权证书 is still to upload, not it
