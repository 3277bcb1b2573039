"""The front channel as production serves it: ``gunicorn -c python:app.serving front_channel_wsgi:app`` with the
fronts' public key in ``FRONT_CHANNEL_PUBLIC_KEYS`` (docs/zones.md), on this worker's database, the portal front
as its own process in front of it. The applicant's journey passes (gunicorn's request line, body and query are what
the front signed) and the forgeries are refused as under the test's own server."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.waiting import wait_for
from support.zones import (
    applicant_journey,
    assert_forgeries_refused_by_channel,
    assert_staff_cannot_sign_in_at_front,
    assert_staff_routes_refused_at_front,
    new_front_key,
    staff_token,
    start_front,
)

from app.config import ROOT
from app.registry.signing import dev_key_paths, ensure_dev_keys

pytestmark = pytest.mark.slow


class Channel:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.err = logs / "channel-stderr.log"
        with open(self.err, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:app.serving", "--bind", "127.0.0.1:0",
                 "front_channel_wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        self.url = ""

    def listening(self) -> bool:
        text = self.err.read_text(encoding="utf-8", errors="replace")
        assert self.process.poll() is None, f"gunicorn exited early:\n{text}"
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", text)
        self.url = found.group(1) if found else ""
        return bool(found)


@pytest.fixture
def served(seeded: Any, database_url: str, simulator: Any, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(the channel's URL, the front's URL, the front's private key)."""
    private, public = new_front_key()
    instance = tmp_path / "instance"
    ensure_dev_keys(dev_key_paths(instance))
    env = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": str(instance),
           "STORAGE_DIR": str(tmp_path / "files"), "INTEGRATIONS_BASE_URL": simulator.url,
           "SCHEDULER_ENABLED": "0", "WEB_CONCURRENCY": "1", "WEB_THREADS": "4", "FRONT_CHANNEL_PUBLIC_KEYS": public,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    channel = Channel(env, tmp_path)
    front = None
    try:
        wait_for(channel.listening, "gunicorn to listen", timeout_s=60)
        front = start_front(channel.url, private)
        yield channel.url, front.url, private
    finally:
        if front is not None:
            front.stop()
        channel.process.terminate()
        channel.process.wait(timeout=60)


def test_the_front_channel_under_gunicorn(served: tuple[str, str, str], seeded: Any) -> None:
    channel_url, front_url, private = served
    applicant_journey(front_url)
    clerk_token = staff_token(seeded)  # the same SECRET_KEY (this run's environment) and database as gunicorn's
    assert_staff_cannot_sign_in_at_front(front_url, clerk_token)
    assert_staff_routes_refused_at_front(front_url, clerk_token)
    assert_forgeries_refused_by_channel(channel_url, private)
