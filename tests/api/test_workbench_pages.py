"""Workbench pages over plain HTTP (no JavaScript): the opinion template works as a form field, 登簿 needs
the explicit confirmation, materials are served inline and their viewing audited, applicants are kept out."""
from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from support.cases import complete_stage

from app.casefile.models import Task
from app.registry.models import RegisterEntry
from app.security.models import AccessEntry


class Page:
    """A browser without JavaScript: session cookie plus the CSRF token every form carries."""

    def __init__(self, client: FlaskClient, username: str) -> None:
        self.client = client
        page = client.get("/login").get_data(as_text=True)
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]  # type: ignore[index]
        resp = client.post("/login", data={"username": username, "password": "Demo@2026", "csrf_token": self.token})
        assert resp.status_code == 302
        after = client.get("/").get_data(as_text=True)  # signing in starts a new session: a new token
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', after)[1]  # type: ignore[index]

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, **data: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.token, **data})


def _open_task(seeded: Any, stage: str) -> Task:
    with seeded.extensions["db"].unit_of_work() as session:
        return session.execute(select(Task).where(Task.stage == stage, Task.status == "open")).scalar_one()


def test_a_chosen_opinion_template_is_the_opinion_without_javascript(seeded: Any, submitted_transfer: dict) -> None:
    clerk = Page(seeded.test_client(), "xh_acceptor")
    task = _open_task(seeded, "受理")
    assert clerk.post(f"/workbench/tasks/{task.id}/claim").status_code == 302
    template = "申请材料齐全，符合法定形式，予以受理。"
    assert template in clerk.get(f"/workbench/cases/{submitted_transfer['id']}").get_data(as_text=True)
    resp = clerk.post(f"/workbench/tasks/{task.id}/complete", decision="approve", opinion="", opinion_template=template)
    assert resp.status_code == 302
    with seeded.extensions["db"].unit_of_work() as session:
        assert session.get_one(Task, task.id).opinion == template


def test_missing_decision_and_bad_items_are_reported_next_to_the_fields(seeded: Any, submitted_transfer: dict) -> None:
    clerk = Page(seeded.test_client(), "xh_acceptor")
    task = _open_task(seeded, "受理")
    clerk.post(f"/workbench/tasks/{task.id}/claim")
    resp = clerk.post(f"/workbench/tasks/{task.id}/complete", opinion="意见")
    assert resp.status_code == 422 and 'id="decision-error"' in resp.get_data(as_text=True)
    resp = clerk.post(f"/workbench/tasks/{task.id}/complete", decision="correct", opinion="需补正", correction_items="")
    assert resp.status_code == 422 and 'id="correction_items-error"' in resp.get_data(as_text=True)


def test_recording_needs_the_confirmation(login: Any, seeded: Any, submitted_transfer: dict) -> None:
    complete_stage(login("xh_acceptor"), submitted_transfer["business_no"], "受理")
    complete_stage(login("xh_reviewer"), submitted_transfer["business_no"], "审核")
    recorder = Page(seeded.test_client(), "xh_recorder")
    task = _open_task(seeded, "登簿")
    recorder.post(f"/workbench/tasks/{task.id}/claim")
    page = recorder.get(f"/workbench/cases/{submitted_transfer['id']}").get_data(as_text=True)
    assert "登簿预览" in page and 'data-element-id="task_record" aria-current="step"' in page
    with seeded.extensions["db"].unit_of_work() as session:
        entries = session.execute(select(func.count()).select_from(RegisterEntry)).scalar_one()
    resp = recorder.post(f"/workbench/tasks/{task.id}/complete", decision="approve", opinion="确认登簿")
    assert resp.status_code == 422 and "请先核对登簿内容" in resp.get_data(as_text=True)
    with seeded.extensions["db"].unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(RegisterEntry)).scalar_one() == entries
    resp = recorder.post(f"/workbench/tasks/{task.id}/complete", decision="approve", opinion="确认登簿",
                         confirm_record="1")
    assert resp.status_code == 302
    with seeded.extensions["db"].unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(RegisterEntry)).scalar_one() == entries + 1


def test_materials_are_shown_inline_and_each_viewing_is_audited(seeded: Any, submitted_transfer: dict) -> None:
    clerk = Page(seeded.test_client(), "xh_acceptor")
    page = clerk.get(f"/workbench/cases/{submitted_transfer['id']}").get_data(as_text=True)
    src = re.search(r'<object data="([^"]+)" type="application/pdf"', page)[1]  # type: ignore[index]
    resp = clerk.get(src)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("inline")
    with seeded.extensions["db"].unit_of_work() as session:
        assert session.execute(select(func.count()).select_from(AccessEntry)
                               .where(AccessEntry.action == "material.view")).scalar_one() == 1
    assert Page(seeded.test_client(), "yh_acceptor").get(src).status_code == 404


def test_applicants_are_kept_out_of_the_workbench(seeded: Any) -> None:
    applicant = Page(seeded.test_client(), "zhangsan")
    assert applicant.get("/workbench/").status_code == 403
    assert seeded.test_client().get("/workbench/").status_code == 302  # anonymous: to the sign-in page


def test_the_case_page_shows_the_department_checks_with_their_marks(seeded: Any, submitted_transfer: dict) -> None:
    page = Page(seeded.test_client(), "xh_acceptor")
    html = page.get(f"/workbench/cases/{submitted_transfer['id']}").get_data(as_text=True)
    section = html.split('id="verifications"')[1].split("</section>")[0]
    assert "一致" in section and "公安" in section and "暂无部门共享核验记录" not in section
    assert "李*" in section  # masked by default
    link = re.search(r'href="(/workbench/cases/[^"]+/verifications/[^"]+\.pdf)"', section)
    assert link is not None
    pdf = page.get(link[1])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
