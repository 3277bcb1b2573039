"""A crash during 制证 leaves no signed PDF whose number is later signed again (issue 14 §2, found; issue 18).

Before: the signed PDF was written to its final place inside the transaction; a process killed before the
commit left a valid signed certificate on disk with a number the next 缮证 issued again to the same or another
case. Now 缮证 numbers the certificate and commits, and the 制证 job renders it afterwards; its file stays
pending until the job's commit, the sweep removes what a dead process left, and the next run signs the same
number again, once.
"""
from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from support.cases import complete_stage, render_certificates
from support.servers import LiveServer

from app.casefile.models import Material
from app.jobs import sweep_orphan_files
from app.registry.models import Certificate

pytestmark = pytest.mark.slow


TITLE_NO = re.compile(r"浙\(\d{4}\)西湖区不动产权第\d{7}号")
HELPER = Path(__file__).with_name("crash_certify.py")


def _number_in(pdf: bytes) -> str:
    match = TITLE_NO.search(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert match, "no certificate number in the PDF"
    return match.group()


def _run_until_hook(seeded: Flask, simulator: LiveServer, tmp_path: Path, business_no: str) -> str:
    """Run 缮证 in a child process, then its 制证; wait until that has written the signed PDF, then kill -9 it."""
    settings = seeded.config["SETTINGS"]  # the child shares the app's files and keys (make_settings' layout)
    args = {"database_url": settings.database_url, "tmp_path": str(settings.storage_dir.parent),
            "simulator_url": simulator.url, "live_url": seeded.config["LIVE_URL"], "business_no": business_no}
    child = subprocess.Popen([sys.executable, str(HELPER), json.dumps(args)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        for line in child.stdout:  # type: ignore[union-attr]
            if line.startswith("HOOK "):
                key = line.split()[1]
                break
        else:
            raise AssertionError(f"the child ended before the hook: {child.stderr.read()}")  # type: ignore[union-attr]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return key


def test_kill_9_during_certify_leaves_no_orphan_signed_pdf(seeded: Flask, login: Any, simulator: LiveServer,
                                                           tmp_path: Path, submitted_transfer: dict) -> None:
    business_no = submitted_transfer["business_no"]
    for username, stage in [("xh_acceptor", "受理"), ("xh_reviewer", "审核"), ("xh_recorder", "登簿")]:
        assert complete_stage(login(username), business_no, stage).status_code == 200
    storage, db = seeded.extensions["storage"], seeded.extensions["db"]

    key = _run_until_hook(seeded, simulator, tmp_path, business_no)  # 缮证 committed, 制证 killed
    pending = storage._pending_path(key)
    assert pending.exists() and not storage.exists(key), "the signed PDF reached its place before the commit"
    killed_number = _number_in(storage.cipher.open(pending.read_bytes(), tenant_id="330106", name=key))
    with db.unit_of_work() as session:
        [cert] = session.scalars(select(Certificate)).all()
        assert cert.rendering and cert.storage_key is None and cert.number == killed_number  # 制证中
        assert sweep_orphan_files(session, storage, older_than_s=0) == 1
    assert not pending.exists()

    render_certificates(seeded)  # the job's next run, in this process
    with db.unit_of_work() as session:
        certs = session.scalars(select(Certificate)).all()
        referenced = {c.storage_key for c in certs} | set(session.scalars(select(Material.storage_key)))
    assert len(certs) == 1 and not certs[0].rendering
    on_disk = {p.name for p in storage.root.rglob("*") if p.is_file()}
    assert on_disk == referenced, "a file on disk that no committed row names"
    # The number 缮证 gave is carried by exactly one signed PDF, the committed one.
    assert _number_in(storage.get(certs[0].storage_key, tenant_id="330106")) == certs[0].number == killed_number
