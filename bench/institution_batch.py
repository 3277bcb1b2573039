"""Institution batch benchmark (issue 19): a bank's batch of N 抵押权注销 (1,000; ``--quick`` 50) through
``app.cases.batches.file_batch`` — each item its own unit of work: create, 4 materials, the account signature,
submission (register rules, the engine to 受理) — then the same batch resent (every item answered from its
idempotency record, nothing created), on SQLite and PostgreSQL.

Printed per database: items/s of the first sending and of the resend, the rate of the first and the last
tenth of the first sending (their ratio shows whether filing slows as the batch grows), and memory —
``tracemalloc`` (Python allocations still reachable after each tenth, a ``gc.collect()`` first, and the peak)
and the process RSS before and after: a batch is processed item by item, so the memory held must stay flat
whatever N. ``tracemalloc`` slows Python down; the rates are measured with it on in both sendings, so compare
them with each other, not with other benchmarks. Figures are printed, never asserted. Usage::

    .venv/bin/python bench/institution_batch.py             # N=1000 (SQLite and PostgreSQL, ~10 min)
    .venv/bin/python bench/institution_batch.py --quick     # smoke run (CI): N=50
    .venv/bin/python bench/institution_batch.py --no-pg     # SQLite only
"""
from __future__ import annotations

import argparse
import base64
import gc
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.support import DEFAULT_PG_URL, scratch_pg_database, simulator  # noqa: E402

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CODES = ("mortgagee_business_licence", "mortgagee_authorization", "mortgage_proof", "extinction_proof")


def _rss_mb() -> float:
    """The current resident set size (Linux /proc), else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _app(url: str, workdir: Path, simulator_url: str, n: int) -> Any:
    from app import create_app
    from app.catalog.service import sync_definitions
    from app.config import ROOT as APP_ROOT
    from app.config import Settings
    from app.demo import bank_mortgage_records, seed_demo
    from app.identity.seed import load_roles
    from app.integrations.interfaces import ensure_interfaces
    from app.migrate import upgrade_to_head
    from app.registry.importer import import_records

    settings = Settings.from_env()
    settings.database_url = url
    settings.instance_path = workdir / "instance"
    settings.storage_dir = workdir / "files"
    settings.definitions_root = APP_ROOT
    settings.integrations_base_url = simulator_url
    upgrade_to_head(url)
    app = create_app(settings)
    records = bank_mortgage_records("330106", n)
    for line, record in enumerate(records, start=1):
        record["_line"] = line
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        load_roles(session)
        sync_definitions(session, APP_ROOT)
        seed_demo(session)
        ensure_interfaces(session, settings)
        report = import_records(session, records, source="bench")
        assert report.ok, report.problems
    app.config["BENCH_UNITS"] = [r["unit_code"] for r in records]
    return app


def _items(units: list[str]) -> list[dict[str, Any]]:
    encoded = base64.b64encode(PDF).decode()
    materials = [{"code": c, "filename": f"{c}.pdf", "content_base64": encoded} for c in CODES]
    return [{"idempotency_key": f"BENCH-{n:05d}", "business_type": "mortgage_cancel", "materials": materials,
             "form": {"unit_code": code, "reason": "debt_repaid"}} for n, code in enumerate(units)]


def measure(app: Any, label: str) -> dict[str, Any]:
    """File the batch, then resend it; the figures of both."""
    from sqlalchemy import select

    from app.cases.batches import file_batch
    from app.identity.actor import actor_for
    from app.identity.models import User

    db, storage = app.extensions["db"], app.extensions["storage"]
    items = _items(app.config["BENCH_UNITS"])
    n = len(items)
    with app.app_context():
        with db.unit_of_work() as session:
            actor = actor_for(session, session.execute(select(User).where(User.username == "bank")).scalar_one())
        tenth = max(1, n // 10)
        marks: list[tuple[int, float, int]] = []  # (position, time, traced bytes held)

        def probe(position: int) -> None:
            if position % tenth == 0 or position == n:
                gc.collect()  # what is still reachable, not garbage waiting for the collector
                marks.append((position, time.perf_counter(), tracemalloc.get_traced_memory()[0]))

        rss_before = _rss_mb()
        tracemalloc.start()
        began = time.perf_counter()
        first = file_batch(db, storage, actor, items, on_item=probe)
        first_s = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        start = time.perf_counter()
        file_batch(db, storage, actor, items)
        replay_s = time.perf_counter() - start
        tracemalloc.stop()
        rss_after = _rss_mb()
        with db.unit_of_work() as session:
            from app.cases.batches import batch_of, batch_report

            report = batch_report(session, batch_of(session, actor, first))
    first_tenth = marks[0][0] / (marks[0][1] - began) if marks else 0.0
    last_tenth = ((marks[-1][0] - marks[-2][0]) / (marks[-1][1] - marks[-2][1])) if len(marks) > 1 else 0.0
    return {"label": label, "n": n, "accepted": report["accepted"], "first_rate": n / first_s,
            "replay_rate": n / replay_s, "first_tenth": first_tenth, "last_tenth": last_tenth,
            "held_mb": [m[2] / 2**20 for m in marks], "peak_mb": peak / 2**20, "rss": (rss_before, rss_after)}


def _print(row: dict[str, Any]) -> None:
    held = " → ".join(f"{m:.1f}" for m in row["held_mb"])
    print(f"  {row['label']}: {row['accepted']}/{row['n']} accepted")
    print(f"    first sending {row['first_rate']:7.2f} items/s   resend (nothing created) {row['replay_rate']:7.1f} "
          f"items/s   (resend ÷ first {row['replay_rate'] / row['first_rate']:.1f})")
    ratio = row["last_tenth"] / row["first_tenth"] if row["first_tenth"] else 0.0
    print(f"    first tenth {row['first_tenth']:6.2f} items/s, last tenth {row['last_tenth']:6.2f} items/s "
          f"(last ÷ first {ratio:.2f})")
    print(f"    Python memory held after each tenth (tracemalloc, MiB): {held}; peak {row['peak_mb']:.1f} MiB")
    print(f"    RSS before {row['rss'][0]:.0f} MiB, after both sendings {row['rss'][1]:.0f} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="items in the batch")
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): N=50")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args(argv)
    n = 50 if args.quick else args.n
    import logging

    logging.getLogger("app.integrations").setLevel(logging.WARNING)
    print(f"Institution batch benchmark — a bank's batch of N={n} 抵押权注销 (4 materials each, carried to "
          f"submission), then resent; {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
    rows = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        sim = stack.enter_context(simulator())
        app = _app(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", Path(tmp) / "sqlite", sim.url, n)
        rows.append(measure(app, "SQLite"))
        app.extensions["db"].engine.dispose()
        if not args.no_pg:
            url = stack.enter_context(scratch_pg_database(args.pg_url, "bench_batch"))
            if url is not None:
                app = _app(url, Path(tmp) / "pg", sim.url, n)
                rows.append(measure(app, "PostgreSQL"))
                app.extensions["db"].engine.dispose()
    for row in rows:
        _print(row)
    return 0 if all(r["accepted"] == r["n"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
