"""The production server's configuration: ``gunicorn -c python:app.serving`` (``make serve``; docs/deployment.md).

- Workers: ``WEB_CONCURRENCY`` (gunicorn's own name), by default 2 × cores + 1 and at most 8 — each worker is
  a whole app with its own connection pool, and PostgreSQL's connections are the limit that comes first. Each
  worker serves ``WEB_THREADS`` requests at once (gthread): a request waiting for a department does not hold
  up the others.
- No preload of the app: every worker builds its own app after the fork. A database pool or the scheduler's
  threads built in the master would be shared by, or lost in, the forked workers, the lease holder's name carries
  the worker's own pid (app/jobs.py), and ``kill -HUP`` then starts workers on the new code. Only third-party
  libraries are imported in the master (``SHARED_LIBRARIES``), and the certificate font parsed (``on_starting``):
  the workers share those pages copy-on-write instead of each holding its own copy (issue 18: ≈ 45 MB of private
  memory per worker). They open nothing and start no thread at import. A new version of one of them needs a
  restart of the master (``kill -USR2`` or the service's restart), not ``kill -HUP``.
- The scheduler: each worker with ``SCHEDULER_ENABLED=1`` is a candidate and the holder of the ``scheduler``
  lease runs the jobs (app/jobs.py ``SchedulerElection``); ``worker_exit`` hands the lease back, so on a
  graceful stop or restart another worker takes over at once, and within ``SCHEDULER_LEASE_SECONDS`` if the
  holder was killed.
- Graceful shutdown: SIGTERM lets requests in flight finish for ``WEB_GRACEFUL_TIMEOUT`` seconds (and a
  running job finish), then the master exits 0.
- Request log (gunicorn's access log): one JSON line per request on stdout without personal data
  (app/request_log.py); gunicorn's own messages go to stderr.
"""
from __future__ import annotations

import os
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 8)


class JsonAccessLogger(Logger):
    """gunicorn's logger with the access line replaced: JSON built by app/request_log.py, never the URL's query
    string, the client's address or a user name (what gunicorn's access line format would offer)."""

    def access(self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        from app.request_log import access_line

        status = resp.status
        code = int(status.split(None, 1)[0]) if isinstance(status, str) else int(status)
        self.access_log.info("%s", access_line(environ, status=code, duration_s=request_time.total_seconds(),
                                               size=getattr(resp, "sent", None)))


# What every worker loads (create_app, then its first requests: PDFs and their signatures, department calls, the
# BPMN engine), imported once in the master. Libraries only, never app code (``kill -HUP`` reloads that).
SHARED_LIBRARIES = (
    "sqlalchemy.orm", "sqlalchemy.dialects.postgresql.psycopg", "sqlalchemy.dialects.sqlite", "psycopg",
    "flask", "flask_smorest", "flask_limiter", "flask_talisman", "flask_wtf", "wtforms", "jinja2", "marshmallow",
    "webargs", "apispec", "yaml", "jsonschema", "lxml.etree", "SpiffWorkflow.bpmn.parser",
    "SpiffWorkflow.bpmn.serializer", "SpiffWorkflow.spiff.parser", "SpiffWorkflow.spiff.serializer", "simpleeval",
    "pyhanko.sign", "pyhanko.sign.validation", "pyhanko.pdf_utils.reader", "pyhanko_certvalidator",
    "cryptography.x509", "asn1crypto.x509", "reportlab.pdfgen.canvas", "reportlab.platypus", "PIL.Image", "httpx",
    "holidays", "limits", "pyotp", "segno", "dateutil.parser",
    "alembic.command", "alembic.config", "alembic.script", "alembic.runtime.migration",  # /readyz: the schema
)


def preload_libraries(names: tuple[str, ...] = SHARED_LIBRARIES) -> list[str]:
    """Import ``names`` (one that is not installed is skipped: the worker will not need it either); the ones
    imported."""
    import importlib

    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        loaded.append(name)
    return loaded


def on_starting(server: Any) -> None:
    """In the master, before any worker forks: import the libraries every worker uses (``SHARED_LIBRARIES``),
    parse the certificate font once (≈ 50 MB of Python objects and the file's bytes, which every worker otherwise
    loads for its first PDF — 申请书, notice, certificate) and freeze what the master holds, so the workers share
    those pages copy-on-write and their garbage collections do not write to them. None of the app's code is
    loaded here: ``kill -HUP`` still starts workers on the code on disk."""
    import gc

    preload_libraries()

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from app.config import cert_font_path, shared_font_name

    path = cert_font_path()
    if path.exists():
        pdfmetrics.registerFont(TTFont(shared_font_name(path), str(path), subfontIndex=0))
    gc.collect()
    gc.freeze()


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker, after its last request: stop its scheduler (if it ran one) and release the lease."""
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        from app.jobs import stop_scheduler

        stop_scheduler(app)


wsgi_app = "wsgi:app"
workers = _env_int("WEB_CONCURRENCY", default_workers())
worker_class = "gthread"
threads = _env_int("WEB_THREADS", 4)
# A gthread worker keeps every keep-alive connection it accepted (default 1,000): clients or a balancer that keep
# connections open pinned the whole load on one worker while the others idled (bench/http_lifecycle.py). Capped at
# two per thread, a busy worker stops accepting and the next connection goes to another worker.
worker_connections = _env_int("WEB_CONNECTIONS", 2 * threads)
preload_app = False
graceful_timeout = _env_int("WEB_GRACEFUL_TIMEOUT", 30)
timeout = 60  # a worker whose main loop stalls this long is restarted (a slow request does not stall it)
control_socket_disable = True  # gunicornc's socket sits at one path per user: a second server would take it over
accesslog = "-"
errorlog = "-"
logger_class = JsonAccessLogger
