"""The renderer process: ``python -m app.renderer``, started by the scheduler's lease holder when ``RENDERER_PROCESS``
is on (app/serving.py sets it for gunicorn; app/renderer_process.py starts and talks to it).

It runs the scheduler's jobs that need the PDF and signature stack — 制证 of the certificates 缮证 numbered, the 申请书
after the last signature, the signed and time-stamped checkpoints — so that stack (reportlab, the CJK font, pyHanko,
asn1crypto: ≈ 80 MB) lives in this one process per host running the scheduler, not in a web worker (issue 18: worker
RSS ≤ 150 MB). Its own app on the same settings (environment), no scheduler, no server. Protocol: one JSON line per
job on stdin (``{"job": "certificates"}``), one JSON line back (``{"done": 3}`` — the job's result, a count or its
text — or ``{"error": "…"}``); it exits
when stdin closes, i.e. when the worker that started it stops or dies."""
from __future__ import annotations

import json
import logging
import os
import sys
from typing import IO, Any


def run_job(app: Any, name: str) -> Any:
    """One run of the scheduler's job ``name`` (app/jobs.py ``scheduled_jobs``: this process's own, as it has no
    renderer), in a transaction like the scheduler's run; its result as a number or, if it is none, as text."""
    from app.jobs import IN_RENDERER, scheduled_jobs

    if name not in IN_RENDERER:
        raise KeyError(f"not a job of the renderer: {name}")
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        result = scheduled_jobs(app)[name](session)
    return result if isinstance(result, int) else str(result)


def serve(app: Any, lines: IO[str], out: IO[str]) -> None:
    """Answer each job line of ``lines`` on ``out`` until ``lines`` ends."""
    for line in lines:
        try:
            answer: dict[str, Any] = {"done": run_job(app, json.loads(line)["job"])}
        except Exception as exc:  # the caller logs it and the job runs again at its next tick
            logging.getLogger("app").exception("renderer: job %s failed", line.strip())
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")  # ASCII: whatever the pipe's encoding
        out.flush()


def main() -> None:
    os.environ["RENDERER_PROCESS"] = "0"  # its jobs run here, never in a renderer of its own
    from app import create_app

    out = sys.stdout
    sys.stdout = sys.stderr  # anything printed by the app goes to the log, never into the answers
    app = create_app()
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    serve(app, sys.stdin, out)


if __name__ == "__main__":
    main()
