"""Platforms as separate OS processes (issue 20: "demonstrated with four processes"): the same preparation as
``make federation-demo`` (app/federation_demo.py: keys, ``flask setup --demo`` per level and code, peers), each
platform a ``flask run`` process on a free loopback port with its own SQLite file under the test's directory, or
its own PostgreSQL database derived from TEST_DATABASE_URL (dropped after). A test stops one (a city down) and
starts it again."""
from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from app import federation_demo as demo
from app.demo import DEMO_PASSWORD
from support.databases import copy_database, drop
from support.federation_nav import csrf_token

FAST_HASH = "pbkdf2:sha256:1000"  # ~60 demo accounts are seeded per platform


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningPlatforms:
    specs: dict[str, demo.PlatformSpec]
    simulator_url: str
    extra: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, code: str) -> str:
        return self.specs[code].url

    def start(self, *codes: str) -> None:
        """Start the platforms ``codes`` (all when none) and wait until each answers /readyz."""
        for code in codes or tuple(self.specs):
            self.processes[code] = demo.start(self.specs[code], simulator_url=self.simulator_url, extra=self.extra)
        demo.wait_ready([self.specs[c].url for c in codes or self.specs],
                        {self.specs[c].url: self.processes[c] for c in codes or self.specs})

    def rows(self, code: str, stmt: Any) -> list[Any]:
        """``stmt``'s rows read straight from the platform's own database (no app in this process)."""
        engine = create_engine(self.specs[code].database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(stmt))
        finally:
            engine.dispose()

    @contextmanager
    def signed_in(self, code: str, username: str) -> Iterator[httpx.Client]:
        """A browser-like client signed in on the platform's pages (session cookie, the CSRF token of each form)."""
        with httpx.Client(base_url=self.url(code), timeout=30) as browser:
            page = browser.get("/login")
            signed = browser.post("/login", data={"csrf_token": csrf_token(page.text), "username": username,
                                                  "password": DEMO_PASSWORD})
            assert signed.status_code == 302, signed.text
            yield browser

    def stop(self, *codes: str) -> None:
        """Stop the platforms ``codes`` (all when none): their processes end, their ports answer nothing."""
        for code in codes or tuple(self.processes):
            process = self.processes.pop(code, None)
            if process is not None:
                demo.stop(process)


@contextmanager
def running_platforms(root: Path, *, codes: Iterable[str] | None = None, template_url: str | None = None,
                      simulator_url: str = "http://127.0.0.1:9", extra_env: Mapping[str, str] | None = None,
                      ) -> Iterator[RunningPlatforms]:
    """Prepare and start the platforms (default: all four of the demo) under ``root``; ``template_url`` (the
    test run's migrated ``empty`` database) saves each platform its migrations. Stopped and dropped after."""
    base = os.environ.get("TEST_DATABASE_URL") or None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    prefix = f"{make_url(base).database}_fed_{worker}" if base else "fed"
    specs = demo.plan(root, {code: free_port() for code, _, _ in demo.PLATFORMS}, database_server=base,
                      codes=codes, name_prefix=prefix)
    extra = {"PASSWORD_HASH_METHOD": FAST_HASH, "SCHEDULER_ENABLED": "0", "FEDERATION_QUERY_TIMEOUT_S": "3",
             **demo.department_secrets(root), **(extra_env or {})}
    running = RunningPlatforms({s.code: s for s in specs}, simulator_url, extra)
    try:
        for spec in specs:
            spec.instance.mkdir(parents=True, exist_ok=True)
            if template_url:
                copy_database(template_url, spec.database_url)
        demo.prepare(specs, simulator_url=simulator_url, extra=extra)
        running.start()
        yield running
    finally:
        running.stop()
        if base:
            for spec in specs:
                drop(spec.database_url)
