"""Electronic archives benchmark (issue 19): what archiving a finished case costs beside the case itself.

On one seeded database (SQLite in a temp dir; PostgreSQL too unless ``--no-pg``), ``N`` 二手房转移登记 cases are
run through the use-case lifecycle of ``bench/lifecycle.py`` (create → 缮证, with 制证) — the baseline, timed
per case — then, measured side by side in the same run:

1. build — the ``archives`` job: read every document, build the DA/T 48 EEP, sign, time-stamp (the simulator's
   TSA over HTTP), store sealed, one case per transaction;
2. offline verification of each package (signature, time stamp, each document's SHA-256) from its bytes alone;
3. the fixity check job over every package (read back, unseal, verify, compare with the recorded digests);
4. export to the archive system (the simulator's receiver over HTTP) and a drop directory.

Figures and ratios are printed, never asserted. Usage::

    .venv/bin/python bench/archives.py            # N=20 per database
    .venv/bin/python bench/archives.py --quick    # N=2 (CI smoke run)
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lifecycle import Bench, Timings, header, ms  # noqa: E402
from bench.support import DEFAULT_PG_URL, scratch_pg_database  # noqa: E402


def _timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def run(label: str, url: str, workdir: Path, count: int) -> None:
    from sqlalchemy import select

    from app.archives.building import build_pending
    from app.archives.export import export_pending
    from app.archives.fixity import check_due
    from app.archives.models import ArchivePackage
    from app.archives.verify import verify_package
    from app.registry.certificates import issuing_config
    from app.registry.checkpoints import office_keys

    header(f"Archives — {label}")
    bench = Bench(url, workdir)
    try:
        timings = Timings()
        _, lifecycles = _timed(lambda: [bench.lifecycle(timings) for _ in range(count)])
        db, storage = bench.db, bench.storage

        def in_session(work: Any) -> Any:
            session = db.session_factory()
            try:
                return work(session)
            finally:
                session.close()

        built, building = _timed(lambda: in_session(lambda s: build_pending(s, storage, issuing_config().font)))
        with db.unit_of_work() as session:
            packages = list(session.scalars(select(ArchivePackage)))
            for p in packages:
                session.expunge(p)
        xmls = [storage.get(p.storage_key, tenant_id=p.tenant_id) for p in packages]
        cert = office_keys()[1]
        checks, verifying = _timed(lambda: [verify_package(x, cert) for x in xmls])
        fixity, checking = _timed(lambda: in_session(lambda s: check_due(s, storage, every_days=0)))
        sent, exporting = _timed(lambda: in_session(lambda s: export_pending(s, storage, workdir / "drop")))

        per_case = lifecycles / count
        print(f"  {count} cases (create → 缮证 with 制证), {built} packages built, "
              f"{sum(c.ok for c in checks)} verified, fixity {fixity}, {sent} acknowledged by the archive system")
        sizes = [p.size for p in packages]
        print(f"  package: {statistics.fmean(p.item_count for p in packages):.1f} documents, "
              f"{statistics.fmean(p.page_count for p in packages):.1f} pages, "
              f"{statistics.fmean(sizes) / 1024:.1f} KiB on average (max {max(sizes) / 1024:.1f} KiB)")
        rows = [("case lifecycle (baseline)", per_case), ("build: sign + stamp + store", building / built),
                ("verify offline", verifying / len(xmls)), ("fixity check (job)", checking / len(packages)),
                ("export: HTTP + drop directory", exporting / max(sent, 1))]
        print(f"    {'per case':<32} {'mean':>10}   ÷ lifecycle")
        for name, seconds in rows:
            print(f"    {name:<32} {ms(seconds):>10}   {seconds / per_case:6.3f}")
    finally:
        bench.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="two cases per database: a smoke run")
    parser.add_argument("-n", type=int, help="cases per database (default 20, quick 2)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    count = args.n or (2 if args.quick else 20)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-archives-") as tmp:
        work = Path(tmp)
        (work / "sqlite").mkdir()
        run("SQLite", f"sqlite:///{work / 'sqlite' / 'bench.sqlite3'}", work / "sqlite", count)
        if not args.no_pg:
            (work / "pg").mkdir()
            with scratch_pg_database(args.pg_url, "bench_archives") as pg_url:
                if pg_url is not None:
                    run("PostgreSQL", pg_url, work / "pg", count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
