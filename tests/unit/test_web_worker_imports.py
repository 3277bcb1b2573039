"""A web worker does not carry the PDF stack (issue 18: worker RSS ≤ 150 MB). reportlab, pyHanko, asn1crypto and the
CJK certificate font (≈ 80 MB together once loaded) are imported by the functions that render or sign, in the
process that renders: ``create_app``, the readiness probe and gunicorn's master (app/serving.py) load none of
them, so an import at module level of app code cannot creep back unnoticed. Run in fresh interpreters: this one
has long imported everything."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.security.keygen import random_keys
from app.serving import PDF_STACK

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys
from app import create_app
from app.registry import certificate_pdf

app = create_app()
client = app.test_client()
statuses = [client.get("/healthz").status_code, client.get("/readyz").status_code]
print(json.dumps({"modules": sorted(sys.modules), "fonts": len(certificate_pdf._fonts), "statuses": statuses,
                  "after_response": app.config["SETTINGS"].documents_after_response}))
"""

RENDERER = """
import json, sys
from app.cases.documents import Document, render_document
from app.registry.certificate_pdf import DEFAULT_FONT, _fonts

pdf = render_document(Document(title="通知书", reference="业务号：1", paragraphs=["张三：您好。"]), DEFAULT_FONT)
print(json.dumps({"modules": sorted(sys.modules), "fonts": len(_fonts), "pdf": pdf[:5].decode()}))
"""

MASTER = """
import json, sys
import app.serving as serving
serving.on_starting(None)
import os
import httpx
print(json.dumps({"modules": sorted(m for m, v in sys.modules.items() if v is not None),
                  "after_response": os.environ["DOCUMENTS_AFTER_RESPONSE"],
                  "renderer": os.environ["RENDERER_PROCESS"], "client": httpx.Client.__name__}))
"""


def _run(code: str, tmp_path: Path, **env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items() if k != "DOCUMENTS_AFTER_RESPONSE"}
    environ.update(random_keys(), INSTANCE_PATH=str(tmp_path / "instance"), STORAGE_DIR=str(tmp_path / "files"),
                   DATABASE_URL=f"sqlite:///{tmp_path / 'worker.db'}", **env)
    environ.pop("SCHEDULER_ENABLED", None)
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _pdf_modules(modules: object) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if m.split(".")[0] in PDF_STACK]


def test_a_web_worker_serving_requests_loads_no_pdf_library_and_no_font(tmp_path: Path) -> None:
    found = _run(WORKER, tmp_path)
    assert found["statuses"] == [200, 503]  # /readyz read the signing keys (the schema is not migrated here)
    assert _pdf_modules(found["modules"]) == []
    assert found["fonts"] == 0
    assert [m for m in found["modules"] if m.startswith("segno")] == []  # type: ignore[union-attr]  # TOTP QR only
    assert found["after_response"] is True  # outside gunicorn (make run, tests) documents follow the response


def test_the_process_that_renders_loads_them_on_first_use(tmp_path: Path) -> None:
    found = _run(RENDERER, tmp_path)
    assert found["pdf"] == "%PDF-"
    assert "reportlab.pdfgen.canvas" in _pdf_modules(found["modules"])
    assert found["fonts"] == 1


def test_gunicorns_master_preloads_no_pdf_library_and_leaves_documents_to_the_jobs(tmp_path: Path) -> None:
    found = _run(MASTER, tmp_path)
    assert _pdf_modules(found["modules"]) == []
    assert found["after_response"] == "0" and found["renderer"] == "1"
    modules = found["modules"]
    assert isinstance(modules, list)
    assert found["client"] == "Client"  # httpx works without its command line ...
    assert [m for m in modules if m.split(".")[0] in ("rich", "pygments") or m == "httpx._main"] == []  # ≈ 3 MB


def test_an_operator_may_keep_documents_after_the_response_under_gunicorn(tmp_path: Path) -> None:
    found = _run(MASTER, tmp_path, DOCUMENTS_AFTER_RESPONSE="1")
    assert found["after_response"] == "1"
