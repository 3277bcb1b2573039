"""Audit-head contention (issue 6 note): every ``audit.record`` locks the chain's head row until the
transaction commits. A case page records reads (the register query, a material view) early in the request
and commits only after rendering, so with the chain every concurrent case-page view waits for the one
before it. This measures, on PostgreSQL, N threads each running "requests" shaped like that — a read that
is logged, then ``--work-ms`` of further work inside the same transaction (rendering, other queries), then
commit — with the read logged three ways in the same run:

- ``none``: not logged (the baseline);
- ``chained``: ``audit.record`` (the hash chain, head row locked until commit);
- ``access``: ``audit.record_access`` (the unchained access log; what reads use now).

Figures are printed (requests/s and p50 / p95 latency), never asserted::

    .venv/bin/python bench/audit_contention.py [--threads 8] [--requests 40] [--work-ms 20]
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from app.security import audit  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _scratch(admin_url: str, name: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


def _request(factory: Any, how: str, work_s: float, n: int) -> float:
    started = time.perf_counter()
    session = factory()
    try:
        session.execute(text("SELECT 1"))  # the read itself
        if how == "chained":
            audit.record(session, actor_id="bench", action="query.unit", object_type="realty_unit",
                         object_id=f"u{n}", after={"purpose": "办理登记"})
            session.flush()
        elif how == "access":
            audit.record_access(session, actor_id="bench", action="query.unit", object_type="realty_unit",
                                object_id=f"u{n}", after={"purpose": "办理登记"})
            session.flush()
        time.sleep(work_s)  # the rest of the request inside the same transaction
        session.commit()
    finally:
        session.close()
    return time.perf_counter() - started


def run(url: str, how: str, threads: int, requests: int, work_s: float) -> tuple[float, float, float]:
    engine = create_engine(url, pool_size=threads, max_overflow=0)
    factory = sessionmaker(engine)
    samples: list[float] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        mine = [_request(factory, how, work_s, k * requests + i) for i in range(requests)]
        with lock:
            samples.extend(mine)

    _request(factory, how, 0, -1)  # warm-up (creates the head row)
    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    engine.dispose()
    ordered = sorted(samples)
    return len(samples) / wall, ordered[len(ordered) // 2] * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--db", default=f"bdcdj_bench_audit_{os.getpid()}", help="scratch database (dropped)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--requests", type=int, default=40, help="per thread")
    parser.add_argument("--work-ms", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): 2 threads × 5, 5 ms of work")
    args = parser.parse_args(argv)
    if args.quick:
        args.threads, args.requests, args.work_ms = 2, 5, 5.0
    from app.migrate import upgrade_to_head

    url = _scratch(args.pg_url, args.db)
    try:
        upgrade_to_head(url)
        print(f"{args.threads} threads × {args.requests} requests, {args.work_ms:.0f} ms of work after the logged read")
        base = None
        for how in ("none", "chained", "access"):
            rate, p50, p95 = run(url, how, args.threads, args.requests, args.work_ms / 1000)
            base = base or rate
            print(f"  {how:8s} {rate:7.1f} req/s (×{rate / base:.2f} of none)   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    finally:
        _drop(args.pg_url, args.db)


if __name__ == "__main__":
    main()
