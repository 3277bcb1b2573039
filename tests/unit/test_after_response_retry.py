"""Work after the response (app.db.work_after_response: the 申请书, the 制证 of certificates) tries again what
it did not make: a transient failure must not leave an applicant's form 生成中 until the job's next run."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app import db

KEY = "test_after_response"


class FakeSession:
    def __init__(self, ids: list[str]) -> None:
        self.info: dict[str, Any] = {KEY: ids}


@pytest.fixture
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "AFTER_RESPONSE_RETRY_PAUSES_S", (0.0, 0.0))


def test_what_was_not_made_is_tried_again_until_made(no_pauses: None) -> None:
    outcomes: list[Any] = [RuntimeError("database is locked"), 0, 2]
    calls: list[list[str]] = []

    def run(_app: Any, ids: list[str]) -> int:
        calls.append(ids)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return int(outcome)

    with Flask(__name__).app_context():
        work = db.work_after_response(FakeSession(["a", "b", "a"]), KEY, run, "things")  # type: ignore[arg-type]
    assert work is not None
    work()
    assert calls == [["a", "b"]] * 3  # each id once, though a re-run pass listed "a" twice


def test_it_gives_up_after_the_last_pause_and_says_so(no_pauses: None, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[list[str]] = []

    def run(_app: Any, ids: list[str]) -> int:
        calls.append(ids)
        return 0

    with Flask(__name__).app_context():
        work = db.work_after_response(FakeSession(["a"]), KEY, run, "things")  # type: ignore[arg-type]
    assert work is not None
    work()
    assert len(calls) == 3
    assert "not all made after the request; the job will" in caplog.text


def test_nothing_listed_is_no_work() -> None:
    with Flask(__name__).app_context():
        assert db.work_after_response(FakeSession([]), KEY, lambda _a, _i: 0, "things") is None  # type: ignore[arg-type]


def test_with_documents_after_response_off_nothing_runs_here_and_the_ids_are_left_to_the_job() -> None:
    """gunicorn's workers (app/serving.py: ``DOCUMENTS_AFTER_RESPONSE=0``) make no PDF after a response: the
    scheduler's job makes them in the renderer process, so a web worker never loads the PDF stack."""
    from app.config import Settings

    app = Flask(__name__)
    app.config["SETTINGS"] = Settings(documents_after_response=False)
    session = FakeSession(["a"])
    with app.app_context():
        assert db.work_after_response(session, KEY, lambda _app, _ids: 1, "things") is None  # type: ignore[arg-type]
    assert KEY not in session.info  # taken off the session all the same: nothing lingers for a later commit
