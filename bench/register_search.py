"""Register search benchmark (issue 18): ``app.registry.queries.search_units`` by 坐落 (one page of 50 with every
unit's current rights and holders, and the access-log entry), at a small and a large register, on PostgreSQL
and on SQLite.

Synthetic units are bulk-loaded (COPY on PostgreSQL, executemany on SQLite) after the demo is seeded: per unit
an ownership right with one holder (name and ID number encrypted like the app does), every 10th a mortgage to
a bank, every 50th a seizure. Addresses are 浙江省杭州市<区><street><no>号<幢>幢<单元>单元<室>室 over 2,880
street names; 10 % of the units are on 文三路, exactly 3 on 栖霞岭路. The terms: common (文三路, and 文三 of 2
characters, which PostgreSQL looks up in the doubled address), 1 % (阳路), rare (栖霞岭路, 栖霞, a street and
number) and absent (不存在路), each searched by an interested party (李四, every office) and, for two of them,
by a clerk (own office only). Each search runs ``--iterations`` times in a fresh session as a request does
(the access-log row flushed, then rolled back rather than committed); p50 / p99 per page, the SQL statements
per page, then the ratio of the large to the small register beside the target (p99 ≤ 50 ms at 1M units) and
EXPLAIN ANALYZE of the page queries on PostgreSQL with their execution time in the server ("query only": the
database's share of a page, less sensitive to a busy machine than the whole page built in Python).

Figures are printed, never asserted. Usage::

    .venv/bin/python bench/register_search.py                   # PostgreSQL 10k and 1M, SQLite 10k and 100k
    .venv/bin/python bench/register_search.py --sizes 10000,200000 --sqlite-sizes 10000
    .venv/bin/python bench/register_search.py --no-sqlite       # PostgreSQL only
    .venv/bin/python bench/register_search.py --quick           # smoke run: 1k and 10k, 10 iterations
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

from bench.inbox import actor, make_app, pct  # noqa: E402
from bench.support import DEFAULT_PG_URL, scratch_pg_database  # noqa: E402

DISTRICTS = [("330106", "西湖区"), ("330110", "余杭区")]
FIRST = "东南西北中青金银春秋明华兴安康平和新民光荣振德文武星月山水江湖松竹梅兰菊"  # 36
SECOND = "阳云林桥溪塘港园苑庄湾府城门街坊景泉峰岭"  # 20
SUFFIX = ("路", "街", "大道", "巷")
NAMES = ("王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "赵丽", "黄强")
TERMS = [  # (label, username, purpose, term)
    ("common 文三路", "lisi", "交易", "文三路"),
    ("common 2-char 文三", "lisi", "交易", "文三"),
    ("1 % 2-char 阳路", "lisi", "交易", "阳路"),
    ("rare 栖霞岭路 (3 units)", "lisi", "交易", "栖霞岭路"),
    ("rare 2-char 栖霞", "lisi", "交易", "栖霞"),
    ("rare street+no 东阳路2号", "lisi", "交易", "东阳路2号"),
    ("absent 不存在路", "lisi", "交易", "不存在路"),
    ("clerk common 文三路", "xh_acceptor", "办理登记", "文三路"),
    ("clerk rare 栖霞", "xh_acceptor", "办理登记", "栖霞"),
]


def location(g: int, n: int) -> str:
    district = DISTRICTS[g % 2][1]
    if g % 10 == 0:
        street = "文三路"
    elif g in (n // 3 + 1, n // 2 + 1, n - 1):
        street = "栖霞岭路"
    else:
        street = FIRST[(g // 7) % 36] + SECOND[(g // 13) % 20] + SUFFIX[(g // 3) % 4]
    return (f"浙江省杭州市{district}{street}{1 + g % 397}号{1 + g % 23}幢{1 + g % 4}单元{100 + g % 2701}室")


def rows(n: int) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]]:
    """(unit, its rights, their holders) for units 1..n, as column dicts."""
    from app.demo import BANK, COURT
    from app.identifiers import make_id_card, make_unit_code
    from app.registry.models import RightHolder

    now = datetime.now(UTC)
    for g in range(1, n + 1):
        tenant = DISTRICTS[g % 2][0]
        unit_id = f"bu{g:030d}"
        unit = {"id": unit_id, "tenant_id": tenant, "location": location(g, n), "use": "住宅",
                "unit_code": make_unit_code(tenant, 9, 1, "GB", 1000 + g // 100, 1 + (g // 10) % 10, 1 + g % 10),
                "area_m2": Decimal(60 + g % 90), "right_nature": "出让", "land_term_end": "2088-12-31"}
        kinds = ["ownership"] + (["mortgage"] if g % 10 == 5 else []) + (["seizure"] if g % 50 == 7 else [])
        rights, holders = [], []
        for k, kind in enumerate(kinds):
            right_id = f"br{g:029d}{k}"
            rights.append({"id": right_id, "tenant_id": tenant, "unit_id": unit_id, "right_type": kind,
                           "status": "current", "business_no": f"2020{tenant}{k}{g:09d}",
                           "cert_no": f"浙(2020)杭州市不动产权第{g:07d}号" if kind == "ownership" else None,
                           "amount_yuan": Decimal(800000) if kind == "mortgage" else None, "details": "{}",
                           "created_at": now})
            holder = RightHolder(id=f"bh{g:029d}{k}")
            holder.name, holder.id_number, holder.kind = {
                "ownership": (NAMES[g % 8], make_id_card("330106", date(1980 + g % 10, 1, 1), g % 1000), "person"),
                "mortgage": (BANK["name"], BANK["id_number"], "org"),
                "seizure": (COURT["name"], COURT["id_number"], "org")}[kind]
            holders.append({"id": holder.id, "tenant_id": tenant, "right_id": right_id, "position": 0,
                            "kind": holder.kind, "share_mode": "单独所有", "name_enc": holder.name_enc,
                            "id_number_enc": holder.id_number_enc, "id_number_bidx": holder.id_number_bidx})
        yield unit, rights, holders


def load(app: Any, n: int) -> float:
    """Insert n units with their rights and holders; returns seconds taken (with ANALYZE)."""
    from app.registry.models import RealtyUnit, Right, RightHolder

    db = app.extensions["db"]
    started = time.perf_counter()
    tables = [RealtyUnit.__table__, Right.__table__, RightHolder.__table__]
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            buffers: list[list[dict[str, Any]]] = [[], [], []]
            for unit, rights, holders in rows(n):
                buffers[0].append(unit)
                buffers[1].extend({**r, "created_at": r["created_at"].replace(tzinfo=None)} for r in rights)
                buffers[2].extend(holders)
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                for table, buffer in zip(tables, buffers, strict=True):
                    names = list(buffer[0])
                    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                        for row in buffer:
                            copy.write_row(tuple(row[c] for c in names))
                raw.commit()
            finally:
                raw.close()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE realty_unit"))
                conn.execute(text("VACUUM ANALYZE realty_right"))
                conn.execute(text("VACUUM ANALYZE right_holder"))
        else:
            batch: list[list[dict[str, Any]]] = [[], [], []]

            def flush(conn: Any) -> None:
                for table, values in zip(tables, batch, strict=True):
                    if values:
                        conn.execute(table.insert(), values)
                        values.clear()

            with db.engine.begin() as conn:
                for unit, rights, holders in rows(n):
                    batch[0].append(unit)
                    batch[1].extend({**r, "details": {}} for r in rights)
                    batch[2].extend(holders)
                    if len(batch[0]) >= 5000:
                        flush(conn)
                flush(conn)
                conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def timed(app: Any, who: Any, term: str, purpose: str, iterations: int) -> tuple[list[float], int, int]:
    """Samples (s) of one search page in a fresh session each, the units found and the statements per page."""
    from app.db import set_tenant_scope
    from app.registry.queries import search_units

    factory, engine = app.extensions["db"].session_factory, app.extensions["db"].engine
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    samples, found = [], 0
    with app.app_context():
        for i in range(iterations + 5):
            session = factory()
            set_tenant_scope(session, who.tenant_scope)
            if i == 0:
                event.listen(engine, "before_cursor_execute", note)
            started = time.perf_counter()
            found = search_units(session, who, location=term, purpose=purpose)["count"]
            session.flush()  # the access-log row, written as a request's commit would
            elapsed = time.perf_counter() - started
            if i == 0:
                event.remove(engine, "before_cursor_execute", note)
            session.close()
            if i >= 5:  # warm-up
                samples.append(elapsed)
    return samples, found, len(statements)


def explain(app: Any, who: Any, term: str, runs: int) -> tuple[list[str], list[float]]:
    """The plan of the page query (EXPLAIN ANALYZE, first lines) and its execution time in the server over
    ``runs`` runs (s): the database's share of a page, apart from the Python that builds it."""
    from app.db import set_tenant_scope
    from app.registry.queries import search_query

    session = app.extensions["db"].session_factory()
    set_tenant_scope(session, who.tenant_scope)
    compiled = search_query(session, None, term).compile(dialect=postgresql.dialect(),
                                                         compile_kwargs={"literal_binds": True})
    times = []
    for _ in range(runs + 1):
        lines = session.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) {compiled}")).scalars().all()
        times.append(float(next(x for x in lines if x.startswith("Execution Time:")).split()[2]) / 1000)
    session.close()
    return [line for line in lines if "Scan" in line or "Sort" in line or "Removed" in line][:5], times[1:]


def run(url: str, n: int, iterations: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(url, Path(tmp))
        took = load(app, n)
        pg = app.extensions["db"].engine.dialect.name == "postgresql"
        print(f"\n== {'PostgreSQL' if pg else 'SQLite'}, {n:,} units (loaded in {took:.1f} s)")
        actors = {u: actor(app, u) for u in ("lisi", "xh_acceptor")}
        results: dict[str, tuple[float, float]] = {}
        for label, username, purpose, term in TERMS:
            samples, found, statements = timed(app, actors[username], term, purpose, iterations)
            results[label] = (pct(samples, 0.5), pct(samples, 0.99))
            print(f"  {label:28s} p50 {results[label][0]:7.2f} ms  p99 {results[label][1]:7.2f} ms  "
                  f"({found} units, {statements} statements)")
        if pg:
            for label, username, _purpose, term in TERMS[:7]:
                lines, times = explain(app, actors[username], term, max(10, iterations // 4))
                results[f"query only: {label}"] = (pct(times, 0.5), pct(times, 0.99))
                print(f"  EXPLAIN {label}: query p50 {pct(times, 0.5):.2f} ms, p99 {pct(times, 0.99):.2f} ms: "
                      + " | ".join(line.strip() for line in lines))
        app.extensions["db"].engine.dispose()
    return results


def compare(what: str, sizes: list[int], by_size: dict[int, dict[str, tuple[float, float]]]) -> None:
    small, large = by_size[sizes[0]], by_size[sizes[-1]]
    print(f"\n== {what}: p99 at {sizes[-1]:,} vs {sizes[0]:,} units (target: p99 ≤ 50 ms at 1M)")
    for label in large:
        ratio = large[label][1] / small[label][1] if small[label][1] else 0.0
        print(f"  {label:40s} p50 {small[label][0]:7.2f} → {large[label][0]:7.2f} ms   "
              f"p99 {small[label][1]:7.2f} → {large[label][1]:7.2f} ms  ×{ratio:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--sizes", default="10000,1000000", help="PostgreSQL register sizes")
    parser.add_argument("--sqlite-sizes", default="10000,100000")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="smoke run (CI): 1k and 10k units, 10 iterations")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = args.sqlite_sizes = "1000,10000"
        args.iterations = 10
    from bench.support import ensure_keys

    ensure_keys()
    sizes = [int(s) for s in args.sizes.split(",")]
    by_size = {}
    for n in sizes:
        with scratch_pg_database(args.pg_url, "bdcdj_bench_search") as url:
            if url is None:
                break
            by_size[n] = run(url, n, args.iterations)
    if len(by_size) >= 2:
        compare("PostgreSQL", sizes, by_size)
    if not args.no_sqlite:
        sqlite_sizes = [int(s) for s in args.sqlite_sizes.split(",")]
        on_sqlite = {}
        for n in sqlite_sizes:
            with tempfile.TemporaryDirectory() as tmp:
                on_sqlite[n] = run(f"sqlite:///{tmp}/search.db", n, args.iterations)
        if len(sqlite_sizes) >= 2:
            compare("SQLite", sqlite_sizes, on_sqlite)
    print(f"\n(pid {os.getpid()}; figures are printed, never asserted)")


if __name__ == "__main__":
    main()
