"""The scheduler's side of the renderer process (app/renderer.py): with ``RENDERER_PROCESS`` on, the jobs of the lease
holder that render or sign (``certificates``, ``application_forms``, ``checkpoint``) are run by a child process that
alone loads the PDF and signature stack, so the gunicorn worker holding the lease stays as small as the others
(issue 18, docs/deployment.md).

The child is started on the first job and kept; one job at a time. One that died (or a job that did not answer
within its timeout: the child is killed) is started again at the next job; a failed job is logged and left to the
next tick, like any job. Closed with the scheduler (``stop``); a worker killed outright closes the child's stdin
with its death and the child exits."""
from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
from typing import IO, Any

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0  # the child builds a whole app before its first answer
JOB_TIMEOUT_S = 300.0


def child_environment(settings: Any) -> dict[str, str]:
    """The child's settings: this process's environment, with what the app was given otherwise (tests build
    settings in code) written out, and no scheduler of its own."""
    env = dict(os.environ)
    values = {"DATABASE_URL": settings.database_url, "INSTANCE_PATH": settings.instance_path,
              "STORAGE_DIR": settings.storage_dir, "DEFINITIONS_ROOT": settings.definitions_root,
              "PUBLIC_BASE_URL": settings.public_base_url, "CERT_FONT_FILE": settings.cert_font_file,
              "CERT_SIGNING_KEY_FILE": settings.cert_signing_key_file,
              "CERT_SIGNING_CERT_FILE": settings.cert_signing_cert_file,
              "CERT_TRUST_ROOT_FILE": settings.cert_trust_root_file, "CHECKPOINT_DIR": settings.checkpoint_dir,
              "INTEGRATIONS_BASE_URL": settings.integrations_base_url,
              "FERRY_EXPORT_DIR": settings.ferry_export_dir}
    env.update({name: str(value) for name, value in values.items() if value})
    env.update(SCHEDULER_ENABLED="0", RENDERER_PROCESS="0")
    return env


class RendererProcess:
    """Runs document jobs in ``python -m app.renderer``."""

    def __init__(self, env: dict[str, str], cwd: str | os.PathLike[str] | None = None) -> None:
        self.env, self.cwd = env, cwd
        self.process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    def run(self, job: str, timeout_s: float = JOB_TIMEOUT_S) -> Any:
        """Run ``job`` in the child; its result (how many documents it made; a checkpoint's text). Raises when the
        job failed or the child gave no answer."""
        with self._lock:
            process = self._started()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps({"job": job}) + "\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                self._kill()
                raise RuntimeError(f"the renderer process is gone: {exc}") from exc
            answer = self._answer(process.stdout, timeout_s)
        if "error" in answer:
            raise RuntimeError(f"renderer: {job}: {answer['error']}")
        return answer["done"]

    def _started(self) -> subprocess.Popen[str]:
        if self.process is not None and self.process.poll() is None:
            return self.process
        if self.process is not None:
            log.warning("the renderer process %s exited with %s: starting another", self.process.pid,
                        self.process.returncode)
        self.process = subprocess.Popen([sys.executable, "-m", "app.renderer"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=self.env, cwd=self.cwd, text=True, bufsize=1)
        assert self.process.stdout is not None
        if not self._answer(self.process.stdout, START_TIMEOUT_S).get("ready"):
            self._kill()
            raise RuntimeError("the renderer process did not start")
        log.info("renderer process %s started: the PDFs of the scheduler's jobs are made there", self.process.pid)
        return self.process

    def _answer(self, stdout: IO[str], timeout_s: float) -> dict[str, Any]:
        ready, _, _ = select.select([stdout], [], [], timeout_s)
        line = stdout.readline() if ready else ""
        if not line:
            self._kill()
            raise RuntimeError(f"the renderer process gave no answer within {timeout_s:.0f} s or exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Close the child's input (it exits), wait briefly, kill it if it does not."""
        with self._lock:
            if self.process is None:
                return
            if self.process.stdin is not None:
                try:
                    self.process.stdin.close()
                except OSError:
                    pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
            self.process = None
