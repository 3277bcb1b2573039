"""gunicorn configuration for bench/http_lifecycle.py: the production one (app/serving.py) unchanged, plus a probe in
each worker that the benchmark reads after the run — so the server measured is the one ``make serve`` runs.

Per worker, written to ``$BENCH_PROBE_DIR/<pid>.json`` when the worker exits (SIGTERM at the end of the run):
requests served, SQL statements sent (every thread: requests, callbacks, the scheduler's jobs), VmRSS when it had
served 1,000 requests. With ``BENCH_PROFILE=1`` each request thread runs under its own cProfile (gthread: one
profiler per thread, enabled around each request), merged into ``<pid>.prof``; ``BENCH_PROFILE=cpu`` times them by
the thread's CPU time (waits for PostgreSQL, locks and departments left out). With ``BENCH_TRACEMALLOC=<n>`` the
worker traces allocations from its n-th request and writes the top allocation sites still alive at exit into
``<pid>.json`` (what holds the memory: from request 1, what the first requests load; from request 100, what grows)."""
from __future__ import annotations

import cProfile
import itertools
import json
import os
import pstats
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

from app.serving import (  # noqa: F401 — gunicorn reads these names from this module
    accesslog,
    control_socket_disable,
    errorlog,
    graceful_timeout,
    logger_class,
    on_starting,
    preload_app,
    threads,
    timeout,
    worker_class,
    worker_connections,
    workers,
    wsgi_app,
)
from app.serving import worker_exit as serving_worker_exit

RSS_AT = 1000


def vm_rss_kb(pid: int | str = "self") -> int | None:
    """Resident set size in KiB from /proc/<pid>/status (None once the process has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def smaps_kb(pid: int | str = "self") -> dict[str, int]:
    """RSS, PSS (shared pages divided among their sharers) and USS (pages of this process alone) in KiB, from
    /proc/<pid>/smaps_rollup: VmRSS counts a page shared copy-on-write with the master in every worker."""
    out: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Anonymous"):
                out[key] = int(rest.split()[0])
    except OSError:
        return {}
    return {"rss": out.get("Rss", 0), "pss": out.get("Pss", 0),
            "uss": out.get("Private_Clean", 0) + out.get("Private_Dirty", 0), "anon": out.get("Anonymous", 0)}


class Probe:
    """Counts requests and statements of one worker; profiles or traces when asked."""

    def __init__(self, app: Any) -> None:
        from sqlalchemy import event

        self.requests = itertools.count(1)
        self.served = 0
        self.statements = itertools.count(1)
        self.rss_at: int | None = None
        self.profile = os.environ.get("BENCH_PROFILE") in ("1", "cpu")
        self.profile_cpu = os.environ.get("BENCH_PROFILE") == "cpu"  # the thread's CPU time, waits left out
        self.trace_from = int(os.environ.get("BENCH_TRACEMALLOC") or 0)
        self.local = threading.local()
        self.profilers: list[cProfile.Profile] = []
        self.inner = app.wsgi_app
        self.app = app
        event.listen(app.extensions["db"].engine, "before_cursor_execute", self._statement)

    def _statement(self, *_args: Any) -> None:
        next(self.statements)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        n = next(self.requests)
        self.served = n
        if n == RSS_AT:
            self.rss_at = vm_rss_kb()
        if self.trace_from and n == self.trace_from:
            tracemalloc.start(1)  # one frame: the allocation site; deeper traces slow a worker tenfold
        if not self.profile:
            return self.inner(environ, start_response)
        profiler = getattr(self.local, "profiler", None)
        if profiler is None:
            profiler = self.local.profiler = (cProfile.Profile(time.thread_time) if self.profile_cpu
                                              else cProfile.Profile())
            self.profilers.append(profiler)
        profiler.enable()
        try:
            return self.inner(environ, start_response)
        finally:
            profiler.disable()

    def write(self, directory: Path) -> None:
        pid = os.getpid()
        from app.serving import PDF_STACK

        loaded = {name.split(".")[0] for name in list(sys.modules)}
        report: dict[str, Any] = {"pid": pid, "requests": self.served, "statements": next(self.statements) - 1,
                                  "rss_kb_at_1000": self.rss_at, "rss_kb_at_exit": vm_rss_kb(),
                                  "modules": len(sys.modules), "pdf_stack": sorted(loaded & set(PDF_STACK)),
                                  "scheduler": self.app.extensions.get("scheduler") is not None,
                                  "threads": threading.active_count()}
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces([
                tracemalloc.Filter(False, tracemalloc.__file__)])
            report["traced_from"] = self.trace_from
            report["traced_kb"] = sum(s.size for s in snapshot.statistics("filename")) // 1024
            report["top_lines"] = [(str(s.traceback[0]), s.size // 1024, s.count)
                                   for s in snapshot.statistics("lineno")[:25]]
            report["top_files"] = [(str(s.traceback[0].filename), s.size // 1024, s.count)
                                   for s in snapshot.statistics("filename")[:25]]
        if self.profilers:
            stats = pstats.Stats(self.profilers[0])
            for profiler in self.profilers[1:]:
                stats.add(profiler)
            stats.dump_stats(str(directory / f"{pid}.prof"))
        (directory / f"{pid}.json").write_text(json.dumps(report), encoding="utf-8")


def post_worker_init(worker: Any) -> None:
    """After the worker loaded the app (and before it serves): wrap the Flask app's WSGI callable."""
    app = worker.wsgi
    app.wsgi_app = app.bench_probe = Probe(app)


def worker_exit(server: Any, worker: Any) -> None:
    app = getattr(worker, "wsgi", None)
    probe = getattr(app, "bench_probe", None)
    directory = os.environ.get("BENCH_PROBE_DIR")
    if probe is not None and directory:
        try:
            probe.write(Path(directory))
        except Exception as exc:  # noqa: BLE001 — a probe must never keep the worker from stopping
            worker.log.warning("bench probe: %s", exc)
    serving_worker_exit(server, worker)
