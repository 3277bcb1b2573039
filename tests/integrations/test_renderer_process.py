"""The renderer process (app/renderer.py, app/renderer_process.py): under gunicorn the scheduler's document jobs
run in a child process of the lease holder, the only process that loads the PDF stack (issue 18: worker RSS
≤ 150 MB). For real: 缮证 numbers a certificate and nothing renders it after the response; the child, started on
this test's database from the app's settings, renders and signs it; a job it cannot run is an error the scheduler
logs; closing it ends the child, and a child that died is started again at the next job."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from support.cases import complete_stage

from app.config import ROOT
from app.registry.models import Certificate
from app.registry.signing import validate_certificate_pdf
from app.renderer_process import RendererProcess, child_environment

pytestmark = pytest.mark.slow

STAFF = {"受理": "xh_acceptor", "审核": "xh_reviewer", "登簿": "xh_recorder", "缮证": "xh_certifier"}


@pytest.fixture
def renderer(seeded: Flask) -> Iterator[RendererProcess]:
    process = RendererProcess(child_environment(seeded.config["SETTINGS"]), cwd=ROOT)
    yield process
    process.stop()


def certificates(app: Flask) -> list[Certificate]:
    with app.extensions["db"].unit_of_work() as session:
        return list(session.scalars(select(Certificate)))


def test_the_child_renders_what_certify_numbered_and_stops_with_the_scheduler(
        seeded: Flask, login: Any, submitted_transfer: dict[str, Any], renderer: RendererProcess) -> None:
    business_no = submitted_transfer["business_no"]
    for stage in ("受理", "审核", "登簿"):
        assert complete_stage(login(STAFF[stage]), business_no, stage).status_code == 200
    certifier = login(STAFF["缮证"])  # 缮证 straight through the API: the test client never closes its response,
    [task] = certifier.get("/api/v1/tasks", query_string={"business_no": business_no, "stage": "缮证"}).get_json()[
        "items"]  # so nothing runs after it (support.cases.complete_stage would render at once)
    resp = certifier.post(f"/api/v1/tasks/{task['id']}/complete",
                          json={"decision": "approve", "opinion": "缮证意见：符合规定", "confirm_record": True})
    assert resp.status_code == 200, resp.get_json()
    [cert] = certificates(seeded)
    assert cert.storage_key is None and cert.number  # 制证中

    assert renderer.run("certificates") == 1
    child = renderer.pid
    assert child is not None and renderer.run("certificates") == 0  # nothing left; the same child answers
    assert renderer.pid == child
    [cert] = certificates(seeded)
    assert cert.storage_key is not None and cert.sha256
    pdf = seeded.extensions["storage"].get(cert.storage_key, tenant_id=cert.tenant_id)
    with seeded.app_context():
        ok, details = validate_certificate_pdf(pdf)
    assert ok, details

    assert renderer.run("checkpoint").startswith("已签发检查点")  # 登簿 wrote the book: signed (and time-stamped) there
    assert renderer.run("checkpoint").startswith("登记簿无新记载")  # nothing new
    assert seeded.extensions["checkpoint_dir"].joinpath("checkpoints.jsonl").read_text().count("\n") == 1

    renderer.stop()
    assert renderer.pid is None


def test_a_failed_job_is_an_error_and_a_dead_child_is_replaced(renderer: RendererProcess) -> None:
    with pytest.raises(RuntimeError, match="not a job of the renderer: no_such_job"):
        renderer.run("no_such_job")
    first = renderer.pid
    assert first is not None  # the child survives a failed job
    assert renderer.process is not None
    renderer.process.kill()
    renderer.process.wait(timeout=10)
    assert renderer.run("application_forms") == 0  # nothing due: a new child answered
    assert renderer.pid not in (None, first)


def test_with_the_renderer_on_the_jobs_that_render_or_sign_go_to_it_and_the_others_stay(
        seeded: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from app.jobs import INTERVALS_S, scheduled_jobs, stop_renderer

    monkeypatch.setitem(seeded.config, "SETTINGS", replace(seeded.config["SETTINGS"], renderer_process=True))
    sent: list[str] = []
    monkeypatch.setattr(RendererProcess, "run", lambda _self, job, timeout_s=0.0: sent.append(job) or 0)
    jobs = scheduled_jobs(seeded)
    assert set(jobs) == set(INTERVALS_S)
    for name in ("certificates", "application_forms", "checkpoint"):
        assert jobs[name](None) == 0  # type: ignore[arg-type]  # the renderer's, which needs no session here
    assert sent == ["certificates", "application_forms", "checkpoint"]
    assert isinstance(seeded.extensions["renderer"], RendererProcess)
    stop_renderer(seeded)
    assert "renderer" not in seeded.extensions
