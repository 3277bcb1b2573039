"""The production server's configuration: ``gunicorn -c python:app.serving`` (``make serve``; docs/deployment.md).

- Workers: ``WEB_CONCURRENCY`` (gunicorn's own name), by default 2 × cores + 1 and at most 8 — each worker is
  a whole app with its own connection pool, and PostgreSQL's connections are the limit that comes first. Each
  worker serves ``WEB_THREADS`` requests at once (gthread): a request waiting for a department does not hold
  up the others.
- No preload of the app: every worker builds its own app after the fork. A database pool or the scheduler's
  threads built in the master would be shared by, or lost in, the forked workers, the lease holder's name carries
  the worker's own pid (app/jobs.py), and ``kill -HUP`` then starts workers on the new code. Only the third-party
  libraries every worker uses are imported in the master (``SHARED_LIBRARIES``): the workers share those pages
  copy-on-write instead of each holding its own copy. They open nothing and start no thread at import. A new
  version of one of them needs a restart of the master (``kill -USR2`` or the service's restart), not
  ``kill -HUP``.
- PDFs stay out of the web workers (issue 18): the PDF stack — reportlab, the CJK certificate font (≈ 50 MB once
  parsed), pyHanko and asn1crypto (≈ 30 MB) — is neither preloaded nor imported by ``create_app``, and
  ``DOCUMENTS_AFTER_RESPONSE=0`` (set here unless the environment says otherwise) leaves the certificates 缮证
  numbers and the 申请书 to the scheduler's jobs, which run every 2 s in the lease holder. A page shared
  copy-on-write still counts in each worker's VmRSS, so preloading what one process needs would make every
  worker carry it. A PDF made synchronously (无房证明, a notice downloaded, window submission's 申请书) loads the
  stack in the worker that serves it, on first use.
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


# What every worker loads (create_app, then its first requests: department calls, the BPMN engine, the signature
# drawings' check), imported once in the master. Libraries only, never app code (``kill -HUP`` reloads that), and
# never the PDF stack (reportlab, pyHanko, asn1crypto, the font): only the process that renders loads it.
SHARED_LIBRARIES = (
    "sqlalchemy.orm", "sqlalchemy.dialects.postgresql.psycopg", "sqlalchemy.dialects.sqlite", "psycopg",
    "flask", "flask_smorest", "flask_limiter", "flask_talisman", "flask_wtf", "wtforms", "jinja2", "marshmallow",
    "webargs", "apispec", "yaml", "jsonschema", "lxml.etree", "SpiffWorkflow.bpmn.parser",
    "SpiffWorkflow.bpmn.serializer", "SpiffWorkflow.spiff.parser", "SpiffWorkflow.spiff.serializer", "simpleeval",
    "cryptography.x509", "PIL.Image", "httpx", "holidays", "limits", "pyotp", "dateutil.parser",
    "alembic.command", "alembic.config", "alembic.script", "alembic.runtime.migration",  # /readyz: the schema
)
# Never preloaded (tests/unit/test_web_worker_imports.py keeps create_app from importing them either).
PDF_STACK = ("reportlab", "pyhanko", "pyhanko_certvalidator", "asn1crypto", "fontTools")


# Optional parts two libraries import with themselves, which no worker uses: httpx's command line (``httpx._main``:
# rich, pygments) and mako's syntax highlighting of template errors (pygments, through alembic) — ≈ 4 MB in every
# worker. The master marks them absent before the imports, and each library falls back as it does when those
# packages are not installed (httpx: a stub ``main``; mako: plain escaping).
LEFT_OUT = ("httpx._main", "mako.ext.pygmentplugin")


def preload_libraries(names: tuple[str, ...] = SHARED_LIBRARIES) -> list[str]:
    """Import ``names`` (one that is not installed is skipped: the worker will not need it either), leaving out
    the modules of ``LEFT_OUT``; the ones imported."""
    import importlib
    import sys

    for name in LEFT_OUT:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # importing it raises ImportError

    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        loaded.append(name)
    return loaded


def on_starting(server: Any) -> None:
    """In the master, before any worker forks: import the libraries every worker uses (``SHARED_LIBRARIES``) and
    freeze what the master holds, so the workers share those pages copy-on-write and their garbage collections
    do not write to them; and leave the PDFs to the scheduler's jobs (``DOCUMENTS_AFTER_RESPONSE=0`` unless set).
    None of the app's code is loaded here: ``kill -HUP`` still starts workers on the code on disk."""
    import gc

    os.environ.setdefault("DOCUMENTS_AFTER_RESPONSE", "0")
    os.environ.setdefault("RENDERER_PROCESS", "1")
    preload_libraries()
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
