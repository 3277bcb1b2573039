"""Outbox benchmark (issue 18): how many messages a second the outbox job delivers, one deliverer against
several, with each case's messages kept in order.

On a migrated, seeded database with the interface rows pointing at the department simulator (served on a
loopback port), N ``case.progress`` messages (each pushed to two receivers, the province and the SMS
platform: two HTTP calls, two call-log lines) spread over N/PER_CASE case keys are queued, then drained by
``app.integrations.outbox.drain`` — every message its own transaction, its pushes made with no transaction
open — measured side by side in one run:

1. PostgreSQL, one deliverer (baseline);
2. PostgreSQL, ``--deliverers`` deliverers (the job's default, ``OUTBOX_DELIVERERS``);
3. SQLite, one deliverer (what SQLite always runs: its writers queue on one lock);
4. pruning the sent messages with retention 0 (``prune_sent``), per message.

It checks that every case's messages reached both receivers in creation order. Figures are printed, never
asserted. A lifecycle produces about 10 messages (issue 18), so messages/s ÷ 10 is the lifecycles/s the
outbox keeps up with. Usage::

    .venv/bin/python bench/outbox.py                 # N=600
    .venv/bin/python bench/outbox.py --quick         # smoke run (CI): N=60
    .venv/bin/python bench/outbox.py --no-pg         # SQLite only
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.support import DEFAULT_PG_URL, scratch_pg_database, simulator  # noqa: E402

PER_CASE = 10  # messages per case key: about what one lifecycle produces
MESSAGES_PER_LIFECYCLE = 10


def _app(url: str, workdir: Path, simulator_url: str) -> Any:
    from app import create_app
    from app.catalog.service import sync_definitions
    from app.config import ROOT as APP_ROOT
    from app.config import Settings
    from app.demo import seed_demo
    from app.identity.seed import load_roles
    from app.integrations.interfaces import ensure_interfaces
    from app.migrate import upgrade_to_head

    settings = Settings.from_env()
    settings.database_url = url
    settings.instance_path = workdir / "instance"
    settings.storage_dir = workdir / "files"
    settings.definitions_root = APP_ROOT
    settings.integrations_base_url = simulator_url
    upgrade_to_head(url)
    app = create_app(settings)
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        load_roles(session)
        sync_definitions(session, APP_ROOT)
        seed_demo(session)
        ensure_interfaces(session, settings)
    return app


def _enqueue(db: Any, n: int, run: str) -> None:
    """n messages of n/PER_CASE cases, interleaved as concurrent lifecycles would write them."""
    from app.integrations.models import OutboxMessage

    cases = max(1, n // PER_CASE)
    with db.unit_of_work() as session:
        for i in range(n):
            key = f"{run}-{i % cases:05d}"
            session.add(OutboxMessage(topic="case.progress", idempotency_key=f"bench:{key}:{i // cases}",
                                      payload={"business_no": key, "seq": i // cases, "status": "accepting",
                                               "status_label": "受理中", "kind": "stage", "message": "基准测试"}))
            if i % 200 == 199:
                session.flush()


def _in_order(simulator_url: str, run: str) -> bool:
    with urllib.request.urlopen(f"{simulator_url}/_control/state", timeout=10) as resp:  # noqa: S310 (loopback)
        received = json.load(resp)["received"]
    ok = True
    for subscriber in ("province", "sms"):
        seqs: dict[str, list[int]] = {}
        for m in received.get(subscriber, []):
            key = str(m["body"].get("business_no", ""))
            if key.startswith(run):
                seqs.setdefault(key, []).append(m["body"]["seq"])
        ok = ok and bool(seqs) and all(v == sorted(v) for v in seqs.values())
    return ok


def measure(db: Any, simulator_url: str, n: int, deliverers: int) -> tuple[float, int, bool]:
    """Queue n messages, drain them with ``deliverers``: (seconds, sent, every case in order)."""
    from app.integrations.outbox import drain

    run = f"R{uuid.uuid4().hex[:6]}"
    _enqueue(db, n, run)
    t = time.perf_counter()
    report = drain(db.session_factory, deliverers=deliverers)
    seconds = time.perf_counter() - t
    return seconds, report.sent, _in_order(simulator_url, run)


def prune_rate(db: Any) -> tuple[int, float]:
    from app.integrations.outbox import prune_sent

    t = time.perf_counter()
    deleted = prune_sent(db.session_factory, 0)
    return deleted, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=600, help="messages per measurement")
    parser.add_argument("--deliverers", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): N=60")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args(argv)
    n = 60 if args.quick else args.n
    import logging

    logging.getLogger("app.integrations").setLevel(logging.WARNING)
    print(f"Outbox benchmark — N={n} case.progress messages (2 receivers each), {PER_CASE} per case, "
          f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
    rows: list[tuple[str, float, int, bool]] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        sim = stack.enter_context(simulator())
        if not args.no_pg:
            url = stack.enter_context(scratch_pg_database(args.pg_url, "bench_outbox"))
            if url is not None:
                app = _app(url, Path(tmp) / "pg", sim.url)
                db = app.extensions["db"]
                with app.app_context():
                    measure(db, sim.url, min(n, 20), 1)  # warm-up: connections, statement caches
                    for k in (1, args.deliverers):
                        seconds, sent, ordered = measure(db, sim.url, n, k)
                        rows.append((f"PostgreSQL, {k} deliverer{'s' if k > 1 else ''}", seconds, sent, ordered))
                    deleted, prune_s = prune_rate(db)
                db.engine.dispose()
                print(f"  PostgreSQL prune (retention 0): {deleted} sent messages in {prune_s * 1000:.0f} ms "
                      f"({deleted / prune_s if prune_s else 0:.0f} /s)")
        app = _app(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", Path(tmp) / "sqlite", sim.url)
        db = app.extensions["db"]
        with app.app_context():
            measure(db, sim.url, min(n, 20), 1)
            seconds, sent, ordered = measure(db, sim.url, n, 1)
            rows.append(("SQLite, 1 deliverer (always one there)", seconds, sent, ordered))
            deleted, prune_s = prune_rate(db)
        db.engine.dispose()
        print(f"  SQLite prune (retention 0): {deleted} sent messages in {prune_s * 1000:.0f} ms "
              f"({deleted / prune_s if prune_s else 0:.0f} /s)")
    base = rows[0][2] / rows[0][1] if rows else 0.0
    print(f"  {'drain':<44} {'msg/s':>8} {'÷ first':>8} {'lifecycles/s kept up with':>27}  order")
    for label, seconds, sent, ordered in rows:
        rate = sent / seconds if seconds else 0.0
        print(f"  {label:<44} {rate:8.1f} {rate / base if base else 0:8.2f} "
              f"{rate / MESSAGES_PER_LIFECYCLE:27.1f}  {'kept' if ordered else 'BROKEN'}")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
