"""Certificate benchmark (issue 3): how many certificates per second one machine renders and signs.

On one seeded register (SQLite in a temp dir, the demo's 48 units), measured side by side in one run:

1. render only — the PDF page from the book's content (baseline);
2. render + sign — plus the office's ECDSA P-256 PAdES signature;
3. full issue — number (locked counter) + content read from the book + render + sign + store + row + audit,
   one ``unit_of_work`` per certificate like one request;
4. offline validation of the signed PDFs against the shipped trust root;
5. render + sign over ``--workers`` processes (the target is stated for 2 cores).

Figures and ratios are printed, never asserted. Usage::

    .venv/bin/python bench/certificates.py            # N=200
    .venv/bin/python bench/certificates.py -n 50      # shorter
    .venv/bin/python bench/certificates.py --quick    # smoke run (CI)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET = 20.0


def _app(workdir: Path, database_url: str | None = None) -> Any:
    """The seeded demo app on SQLite in ``workdir``, or on ``database_url`` (an empty database)."""
    from app import create_app
    from app.catalog.service import sync_definitions
    from app.config import ROOT, Settings
    from app.demo import seed_demo
    from app.identity.seed import load_roles
    from app.migrate import upgrade_to_head
    from bench.support import ensure_keys

    ensure_keys()  # random keys for the run unless the environment has them
    settings = Settings.from_env()
    settings.database_url = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    settings.instance_path = workdir / "instance"
    settings.storage_dir = workdir / "files"
    settings.definitions_root = ROOT
    upgrade_to_head(settings.database_url)
    app = create_app(settings)
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        load_roles(session)
        sync_definitions(session, ROOT)
        seed_demo(session)
    return app


def _pages(app: Any, n: int) -> list[Any]:
    """Certificates (register, 附记 and 附图 pages) for the register's current ownership rights, cycled up to n."""
    from sqlalchemy import select

    from app.registry.certificate_content import content_for_right
    from app.registry.certificate_pdf import CertificatePage
    from app.registry.models import Right

    with app.extensions["db"].unit_of_work() as session:
        rights = session.execute(select(Right).where(Right.status == "current", Right.right_type == "ownership")
                                 .order_by(Right.created_at)).scalars().all()
        contents = [content_for_right(session, r, "title") for r in rights]
    return [CertificatePage(title="不动产权证书", number=f"浙(2026)西湖区不动产权第{i + 1:07d}号",
                            rows=content.rows, office="杭州市西湖区不动产登记中心",
                            issued_on="2026年11月29日", verify_url=f"http://127.0.0.1:5000/verify/BENCH{i:019d}",
                            notes=content.notes, plan_page=content.plan_page, plan=content.plan)
            for i, content in ((i, contents[i % len(contents)]) for i in range(n))]


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


_worker_keys: list[Any] = []  # a worker process's signing keys (no app there: passed to sign_pdf explicitly)


def _worker_init(keys: Any, font: Path) -> None:
    from app.registry.certificate_pdf import font_name

    _worker_keys[:] = [keys]
    font_name(font)


def _render_and_sign(page: Any) -> int:
    from app.registry import signing
    from app.registry.certificate_pdf import render_certificate

    return len(signing.sign_pdf(render_certificate(page), reason="bench", location="bench", paths=_worker_keys[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="certificates per measurement")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): N=10 on 2 processes")
    args = parser.parse_args()
    if args.quick:
        args.n, args.workers = 10, 2
    n = args.n

    from sqlalchemy import select

    from app.identity.actor import SYSTEM
    from app.registry import certificates, signing
    from app.registry.certificate_pdf import render_certificate
    from app.registry.certificate_rendering import render_at_once
    from app.registry.models import Right

    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp))
        with app.app_context():  # the app's certificate settings (app.extensions)
            config = certificates.issuing_config()
            pages = _pages(app, n)
            render_certificate(pages[0])  # font loaded, keys generated: not part of the figures
            signing.sign_pdf(render_certificate(pages[0]), reason="warm-up", location="bench")

            t = time.perf_counter()
            unsigned = [render_certificate(p) for p in pages]
            render_s = time.perf_counter() - t

            t = time.perf_counter()
            signed = [signing.sign_pdf(render_certificate(p), reason="bench", location="bench") for p in pages]
            sign_s = time.perf_counter() - t

            storage = app.extensions["storage"]
            db = app.extensions["db"]
            with db.unit_of_work() as session:
                right_ids = list(session.execute(select(Right.id).where(Right.status == "current",
                                                                        Right.right_type == "ownership")).scalars())
            t = time.perf_counter()
            for i in range(n):
                with db.unit_of_work() as session:
                    right = session.get_one(Right, right_ids[i % len(right_ids)])
                    cert = certificates.issue_for_right(session, storage, right, SYSTEM)
                    render_at_once(session, storage, cert, config.keys, config.font)  # 缮证 and its 制证 at once
            issue_s = time.perf_counter() - t

            t = time.perf_counter()
            valid = sum(signing.validate_certificate_pdf(pdf)[0] for pdf in signed)
            validate_s = time.perf_counter() - t
            assert valid == n, f"only {valid} of {n} signatures valid"

            workers = max(1, args.workers)
            with ProcessPoolExecutor(workers, initializer=_worker_init, initargs=(config.keys, config.font)) as pool:
                list(pool.map(_render_and_sign, pages[:workers * 2]))  # warm the workers
                t = time.perf_counter()
                list(pool.map(_render_and_sign, pages, chunksize=4))
                parallel_s = time.perf_counter() - t

    size = sum(len(p) for p in signed) / n
    base = _rate(n, render_s)
    print(f"Certificate benchmark — N={n}, {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}")
    plain = sum(map(len, unsigned)) / n
    print(f"  signed PDF size            {size / 1024:8.1f} KiB (unsigned {plain / 1024:.1f} KiB)")
    rows = [("render only (baseline)", base), ("render + sign", _rate(n, sign_s)),
            ("full issue (number, book, render, sign, store, row)", _rate(n, issue_s)),
            (f"render + sign, {workers} processes", _rate(n, parallel_s)),
            ("validate signature (offline)", _rate(n, validate_s))]
    for label, rate in rows:
        print(f"  {label:52s} {rate:8.1f} /s  ({1000 / rate:6.1f} ms each; ÷ baseline {rate / base:5.2f})")
    best = max(_rate(n, sign_s), _rate(n, parallel_s))
    print(f"  target ≥ {TARGET:.0f} rendered+signed/s on 2 cores: {'met' if best >= TARGET else 'NOT met'} "
          f"({best:.1f}/s)")


if __name__ == "__main__":
    main()
