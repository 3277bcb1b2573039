"""The renderer process: ``python -m app.renderer``, started by the scheduler's lease holder when ``RENDERER_PROCESS``
is on (app/serving.py sets it for gunicorn; app/renderer_process.py starts and talks to it).

It runs the scheduler's jobs that need the PDF and signature stack — 制证 of the certificates 缮证 numbered, the 申请书
after the last signature, the signed and time-stamped checkpoints — so that stack (reportlab, the CJK font, pyHanko,
asn1crypto: ≈ 80 MB) lives in this one process per host running the scheduler, not in a web worker (issue 18: worker
RSS ≤ 150 MB). Its own app on the same settings (environment), no scheduler, no server. Protocol: one JSON line per
job on stdin (``{"job": "certificates"}``), one JSON line back (``{"done": 3}`` or ``{"error": "…"}``); it exits
when stdin closes, i.e. when the worker that started it stops or dies."""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import IO, Any


def checkpoint(app: Any) -> int:
    """The ``checkpoint`` job: sign the chain heads and have them time-stamped (pyHanko builds the TSA request and
    checks its token); 1 when a checkpoint was made or stamped."""
    from app.registry.checkpoints import make_checkpoint

    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        result = make_checkpoint(session)
    return int(result.created is not None or bool(result.stamped))


def _jobs() -> dict[str, Callable[[Any], int]]:
    from app.cases.application_form import make_now
    from app.registry.certificate_rendering import render_now

    return {"certificates": render_now, "application_forms": make_now, "checkpoint": checkpoint}


def serve(app: Any, lines: IO[str], out: IO[str]) -> None:
    """Answer each job line of ``lines`` on ``out`` until ``lines`` ends."""
    jobs = _jobs()
    for line in lines:
        try:
            name = json.loads(line)["job"]
            answer: dict[str, Any] = {"done": int(jobs[name](app))}
        except Exception as exc:  # the caller logs it and the job runs again at its next tick
            logging.getLogger("app").exception("renderer: job %s failed", line.strip())
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


def main() -> None:
    from app import create_app

    out = sys.stdout
    sys.stdout = sys.stderr  # anything printed by the app goes to the log, never into the answers
    app = create_app()
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    serve(app, sys.stdin, out)


if __name__ == "__main__":
    main()
