"""The production server for real (app/serving.py): gunicorn with two workers on this worker's database
(SQLite file, or PostgreSQL as the app's role), its scheduler lease held by exactly one live worker and taken
over when that worker is killed, JSON access lines that keep an ID number and a phone out of the log, and a
SIGTERM that ends everything with exit code 0 and the lease handed back."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.waiting import wait_for

from app.config import ROOT
from app.db import Database
from app.integrations.models import JobLease
from app.jobs import SCHEDULER_LEASE
from app.registry.signing import dev_key_paths, ensure_dev_keys

pytestmark = pytest.mark.slow

ID_NUMBER, PHONE = "110105199001011234", "13800138000"
LEASE_S = 3


class Gunicorn:
    """``gunicorn -c python:app.serving`` as a subprocess, its stdout (access log) and stderr in files."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.out, self.err = logs / "stdout.log", logs / "stderr.log"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:app.serving", "--bind", "127.0.0.1:0"],
                cwd=ROOT, env=env, stdout=out, stderr=err)
        self.url = ""

    def errors(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def listening(self) -> bool:
        assert self.process.poll() is None, f"gunicorn exited early:\n{self.errors()}"
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", self.errors())
        self.url = found.group(1) if found else ""
        return bool(found)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def ready(self) -> bool:
        try:
            return self.get("/readyz")[0] == 200
        except OSError:
            return False

    def workers(self) -> set[int]:
        """The live workers (the master's children)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return {int(c) for c in children}

    def access_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def server(seeded: Any, database_url: str, simulator: Any, tmp_path: Path) -> Iterator[Gunicorn]:
    instance = tmp_path / "instance"
    ensure_dev_keys(dev_key_paths(instance))  # one key pair for both workers, not one each at once
    env = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": str(instance),
           "STORAGE_DIR": str(tmp_path / "files"), "INTEGRATIONS_BASE_URL": simulator.url,
           "SCHEDULER_ENABLED": "1", "SCHEDULER_LEASE_SECONDS": str(LEASE_S), "WEB_CONCURRENCY": "2",
           "WEB_THREADS": "2", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    gunicorn = Gunicorn(env, tmp_path)
    try:
        yield gunicorn
    finally:
        if gunicorn.process.poll() is None:
            gunicorn.process.kill()
            gunicorn.process.wait(timeout=30)


def _lease(owner: Database) -> JobLease | None:
    with owner.unit_of_work() as session:
        return session.get(JobLease, SCHEDULER_LEASE)


def _holder_pid(owner: Database) -> int | None:
    lease = _lease(owner)
    if lease is None or lease.expires_at <= datetime.now(UTC):
        return None
    return int(lease.holder.split(":")[1])


def test_gunicorn_serves_logs_without_personal_data_elects_one_scheduler_and_stops_gracefully(
        server: Gunicorn, owner_database_url: str) -> None:
    owner = Database(owner_database_url)
    try:
        wait_for(server.listening, "gunicorn to listen", timeout_s=60)
        wait_for(server.ready, "a worker to answer /readyz with 200", timeout_s=180)

        request_id = str(uuid.uuid4())
        status, headers, _ = server.get(f"/track?id_number={ID_NUMBER}&phone={PHONE}",
                                        headers={"X-Request-ID": request_id})
        assert (status, headers["X-Request-ID"]) == (200, request_id)
        verify_status = server.get(f"/verify/{ID_NUMBER}")[0]
        assert server.get(f"/no-such-page/{ID_NUMBER}")[0] == 404

        expected = {("/track", 200), ("/verify/<code>", verify_status), ("/no-such-page/*", 404)}

        def logged() -> set[tuple[str, int]]:
            return {(x["path"], x["status"]) for x in server.access_lines()}

        # each worker writes its line after its response has gone: wait for all three, not only the first
        wait_for(lambda: expected <= logged(), "the access lines of the three requests", timeout_s=30)
        log_text = server.out.read_text(encoding="utf-8")
        assert ID_NUMBER not in log_text and PHONE not in log_text
        line = next(line for line in server.access_lines() if line["request_id"] == request_id)
        assert (line["method"], line["path"], line["status"]) == ("GET", "/track", 200)
        assert isinstance(line["ms"], float) and line["ms"] >= 0

        # exactly one process runs the scheduler: the lease names one live worker
        wait_for(lambda: _holder_pid(owner) in server.workers(), "a worker to hold the scheduler lease",
                 timeout_s=60)
        first = _holder_pid(owner)
        assert len(server.workers()) == 2

        # its holder dies without a word: another worker takes the lease over once it expired
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: (pid := _holder_pid(owner)) not in (None, first) and pid in server.workers(),
                 "another worker to take the scheduler lease over", timeout_s=60)

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=120) == 0, server.errors()
        lease = _lease(owner)
        assert lease is not None and lease.expires_at <= datetime.now(UTC)  # handed back, not left to expire
    finally:
        owner.engine.dispose()
