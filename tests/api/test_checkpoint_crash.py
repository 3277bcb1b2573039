"""A recorder's process killed (SIGKILL) in the middle of 登簿, after its register entry was written but
before the commit: the database rolls the step back, ``registry verify`` still holds against the last signed
checkpoint, and the 登簿 can then be done again and anchored by the next checkpoint."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from support.cases import complete_stage

from app.config import ROOT
from app.registry.checkpoint_log import CheckpointLog

pytestmark = pytest.mark.slow


RECORDER = """
import sys
import app.registry.book as book
import app.registry.service as service
from app import create_app
from app.config import Settings
from support.cases import complete_stage
from support.personas import Api

real_append = book.append_entry

def append_then_hang(session, *args, **kwargs):
    entry = real_append(session, *args, **kwargs)
    session.flush()  # the entry is in the database, inside the uncommitted 登簿 transaction
    print("entry-written", flush=True)
    sys.stdin.read()  # wait to be killed
    return entry

service.append_entry = append_then_hang
application = create_app(Settings.from_env())
complete_stage(Api(application.test_client(), "xh_recorder"), sys.argv[1], "登簿")
print("committed", flush=True)
"""


def _wait_for_line(proc: subprocess.Popen[str], wanted: str, timeout_s: float = 60) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _w, _x = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.strip() == wanted:
                return
            if not line and proc.poll() is not None:
                break
    proc.kill()
    raise AssertionError(f"the recorder process never printed {wanted!r}: {proc.stderr.read() if proc.stderr else ''}")


def test_kill_9_during_recording_leaves_a_book_that_verifies_against_the_last_checkpoint(
        seeded: Flask, login: Any, submitted_transfer: dict, database_url: str, tmp_path: Path, simulator: Any) -> None:
    business_no = submitted_transfer["business_no"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    runner = seeded.test_cli_runner()
    assert "已签发检查点 #1" in runner.invoke(args=["registry", "checkpoint"]).output

    settings = seeded.config["SETTINGS"]
    env = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": str(settings.instance_path),
           "STORAGE_DIR": str(settings.storage_dir), "INTEGRATIONS_BASE_URL": simulator.url,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    script = tmp_path / "recorder.py"
    script.write_text(RECORDER, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), business_no], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_line(proc, "entry-written")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    verified = runner.invoke(args=["registry", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "对照检查点 #1" in verified.output and "0 条待下一检查点" in verified.output

    assert complete_stage(login("xh_recorder"), business_no, "登簿").status_code == 200  # done again, whole
    assert "已签发检查点 #2" in runner.invoke(args=["registry", "checkpoint"]).output
    assert CheckpointLog(seeded.extensions["checkpoint_dir"]).latest().heads[submitted_transfer["unit_code"]][0] == 2  # type: ignore[union-attr]
    assert runner.invoke(args=["registry", "verify"]).exit_code == 0
