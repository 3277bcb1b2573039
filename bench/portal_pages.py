"""Public portal pages: weight and server time (issue 5 budget: ≤ 150 KB transferred per page, server time
p95 ≤ 50 ms under 20 concurrent users).

One run, on the seeded demo (SQLite in a temp dir) served by werkzeug's threaded server on loopback:
1. **weight** — bytes of each page's HTML plus everything it links (CSS; no scripts, images or fonts on
   public pages), uncompressed;
   On PostgreSQL (the production database; ``--sqlite`` for the dev default, where every transaction
   takes SQLite's write lock and requests queue):
2. **server time** — 20 client threads request the pages round-robin; the p50 / p95 of the server-side
   time (measured inside the app, from request start to response) and of the client round trip. The
   /healthz endpoint (the request plumbing alone, no database) is the baseline measured the same way in the same run.

    .venv/bin/python bench/portal_pages.py [--requests 40] [--users 20] [--sqlite] [--quick]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.certificates import _app  # noqa: E402  (the same seeded demo app)

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _fresh_pg_database(server_url: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text

    name = f"bdcdj_bench_portal_{os.getpid()}_{int(time.time())}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return server_url.rsplit("/", 1)[0] + f"/{name}", drop

PAGES = ["/", "/guide/transfer_resale", "/guide/mortgage_first", "/info", "/track", "/login", "/terms", "/signup",
         "/login/sms"]
BUDGET_KB, BUDGET_P95_MS = 150, 50.0


def _serve(app: Any) -> tuple[str, Any, list[tuple[str, float]]]:
    from werkzeug.serving import make_server

    timings: list[tuple[str, float]] = []
    lock = threading.Lock()

    @app.before_request
    def _start() -> None:
        from flask import g

        g.bench_start = time.perf_counter()

    @app.after_request
    def _stop(response: Any) -> Any:
        from flask import g, request

        with lock:
            timings.append((request.path, (time.perf_counter() - g.bench_start) * 1000))
        return response

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server, timings


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (loopback)
        return bytes(resp.read())


def weight(base: str, path: str) -> int:
    html = _get(base + path)
    linked = re.findall(rb'<link rel="stylesheet" href="([^"]+)"', html) + re.findall(rb'<script src="([^"]+)"', html)
    return len(html) + sum(len(_get(base + href.decode())) for href in linked)


def load(base: str, paths: list[str], users: int, per_user: int) -> list[float]:
    rtts: list[float] = []
    lock = threading.Lock()

    def user(offset: int) -> None:
        for i in range(per_user):
            path = paths[(offset + i) % len(paths)]
            t0 = time.perf_counter()
            _get(base + path)
            with lock:
                rtts.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rtts


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40, help="requests per user")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL server to create a scratch database on")
    parser.add_argument("--sqlite", action="store_true", help="measure on SQLite instead (the dev default)")
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): 3 users × 9 requests (every page)")
    args = parser.parse_args()
    if args.quick:
        args.users, args.requests = 3, 9
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = (None, lambda: None) if args.sqlite else _fresh_pg_database(args.pg_url)
        try:
            app = _app(Path(tmp), url)
        except BaseException:
            drop()  # no scratch database left behind by a failed set-up
            raise
        base, server, timings = _serve(app)
        print(f"database: {'SQLite (every transaction BEGIN IMMEDIATE: requests queue)' if args.sqlite else url}")
        try:
            print(f"{'page':<26}{'weight KB':>10}  (budget {BUDGET_KB} KB)")
            for path in PAGES:
                print(f"{path:<26}{weight(base, path) / 1024:>10.1f}")
            for path in PAGES + ["/healthz"]:  # warm-up
                _get(base + path)
            for label, paths in (("baseline /healthz", ["/healthz"]), ("public pages", PAGES)):
                timings.clear()
                rtt = load(base, paths, args.users, args.requests)
                server_ms = [ms for p, ms in timings if p in paths]
                print(f"{label:<18} {args.users} users × {args.requests}: server p50 {pct(server_ms, 50):6.1f} ms  "
                      f"p95 {pct(server_ms, 95):6.1f} ms   round trip p50 {pct(rtt, 50):6.1f} ms  "
                      f"p95 {pct(rtt, 95):6.1f} ms")
            per_page = {p: [ms for q, ms in timings if q == p] for p in PAGES}
            for path, values in per_page.items():
                print(f"  {path:<24} server p95 {pct(values, 95):6.1f} ms (budget {BUDGET_P95_MS:.0f} ms)")
        finally:
            server.shutdown()
            app.extensions["db"].engine.dispose()
            drop()


if __name__ == "__main__":
    main()
