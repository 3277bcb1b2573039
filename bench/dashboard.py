"""Statistics dashboard benchmark (issue 8): ``app.supervision.stats.dashboard`` (every figure of
/admin/stats) over N synthetic cases on PostgreSQL, beside a baseline measured in the same run: one
``SELECT count(*)`` of the submitted cases. The data is bench/inbox.py's bulk load (cases in two districts,
two channels, four stage tasks each, 5 % open with due dates around today).

Every figure is aggregated in SQL (grouped counts, mean stage hours, SLA breaches per stage); this bench
shows how the cost grows with N. Figures are printed, never asserted. Usage::

    .venv/bin/python bench/dashboard.py                      # 10k and 100k cases
    .venv/bin/python bench/dashboard.py --sizes 10000,50000 --iterations 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import inbox  # noqa: E402
from inbox import DEFAULT_PG_URL, bulk_load, database, drop_database, make_app  # noqa: E402
from sqlalchemy import text  # noqa: E402


def run(admin_url: str, n: int, iterations: int) -> tuple[float, float]:
    from app.identity.actor import actor_for
    from app.identity.models import User
    from app.supervision.stats import StatsFilter, dashboard

    url, _ = database(admin_url, n, reuse=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = make_app(url, Path(tmp))
            db = app.extensions["db"]
            with db.unit_of_work() as session:
                zhang = session.query(User).filter_by(username="zhangsan").one()
                bidx = zhang.id_number_bidx
            loaded = bulk_load(app, n, bidx)
            with app.app_context(), db.unit_of_work() as session:  # password hashing is the app's setting
                from app.demo import _user

                ops = actor_for(session, _user(session, "bench_ops", roles=["ops"]))
            base, dash = [], []
            for _ in range(iterations):
                with db.unit_of_work() as session:
                    t = time.perf_counter()
                    session.execute(text("SELECT count(*) FROM reg_case WHERE submitted_at IS NOT NULL")).scalar()
                    base.append((time.perf_counter() - t) * 1000)
                with db.unit_of_work() as session:
                    t = time.perf_counter()
                    figures = dashboard(session, ops, StatsFilter())
                    dash.append((time.perf_counter() - t) * 1000)
            b, d = statistics.median(base), statistics.median(dash)
            print(f"{n:>9,} cases (loaded in {loaded:.1f} s): count(*) {b:8.2f} ms   dashboard {d:8.2f} ms   "
                  f"×{d / b:.0f}   (total {figures['total']:,}, SLA breaches "
                  f"{sum(i['value'] for i in figures['sla_breaches']):,})")
            app.extensions["db"].engine.dispose()
            return b, d
    finally:
        drop_database(admin_url, n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): 200 and 600 cases, 1 iteration")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.iterations = "200,600", 1
        inbox.BENCH_DB = f"bdcdj_bench_dash_{os.getpid()}"  # its own databases on a shared server
    print("median of", args.iterations, "runs; baseline: SELECT count(*) of submitted cases")
    results = {n: run(args.pg_url, n, args.iterations) for n in (int(s) for s in args.sizes.split(","))}
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, large = results[sizes[0]][1], results[sizes[-1]][1]
        print(f"dashboard at {sizes[-1]:,} vs {sizes[0]:,} cases: ×{large / small:.1f}")


if __name__ == "__main__":
    main()
