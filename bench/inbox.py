"""Inbox benchmark (issue 6): the clerk inbox use case (``app.cases.inbox.inbox_page``: one page plus the
count of every tab) and the whole ``GET /workbench/`` page, at 10k and at 1M cases on PostgreSQL.

Synthetic data is bulk-inserted with SQL (``generate_series``), not through the use cases: the demo
offices, users and definitions are seeded normally, then N cases in the two districts, 2 parties each, and
their task rows — 95 % finished (four completed tasks: 受理 审核 登簿 缮证), 5 % open at one of the four
stages (earlier stages completed, ~30 % claimed, due dates spread around today so some are overdue).
Completed tasks are spread over the demo clerk and 10 synthetic colleagues per role and office. After
``VACUUM ANALYZE`` each scenario runs ``--iterations`` times in a fresh session (as a request would) and
p50 / p99 are printed, with the ratio of the 1M to the 10k figure and EXPLAIN of the page queries.

Figures are printed, never asserted. Usage::

    .venv/bin/python bench/inbox.py                       # 10k and 1M cases (1M: several minutes to load)
    .venv/bin/python bench/inbox.py --sizes 10000,200000  # other sizes
    .venv/bin/python bench/inbox.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/inbox.py --keep                # keep bdcdj_bench_inbox_<n> for …
    .venv/bin/python bench/inbox.py --reuse               # … measuring again without reloading
    .venv/bin/python bench/inbox.py --db-prefix mine      # databases mine_<n> (a server shared with others)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.cases import inbox  # noqa: E402
from app.cases.inbox import InboxFilter, inbox_page  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "bdcdj_bench_inbox"
STAGES = [("受理", "acceptor", "task_accept", "decision_accept", "accepting"),
          ("审核", "reviewer", "task_review", "decision_review", "reviewing"),
          ("登簿", "recorder", "task_record", "decision_record", "recording"),
          ("缮证", "certifier", "task_certify", "decision_certify", "certifying")]
COLLEAGUES = 10  # synthetic clerks per role and office besides the demo one


def database(admin_url: str, n: int, *, reuse: bool) -> tuple[str, bool]:
    """The URL of the size's database and whether it must be loaded (a fresh one unless reusing a kept one)."""
    name = f"{BENCH_DB}_{n}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
        if not (reuse and exists):
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), not (reuse and exists)


def drop_database(admin_url: str, n: int) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB}_{n} WITH (FORCE)"))
    engine.dispose()


def make_app(url: str, workdir: Path, *, seed: bool = True) -> Any:
    from app import create_app
    from app.catalog.service import sync_definitions
    from app.config import Settings
    from app.demo import seed_demo
    from app.identity.seed import load_roles
    from app.migrate import upgrade_to_head
    from bench.support import ensure_keys

    if seed:
        upgrade_to_head(url)
    ensure_keys()  # random keys for the run unless the environment has them
    settings = Settings.from_env()
    settings.database_url, settings.instance_path = url, workdir / "instance"
    settings.storage_dir, settings.definitions_root = workdir / "files", ROOT
    app = create_app(settings)
    if seed:
        with app.app_context(), app.extensions["db"].unit_of_work() as session:
            load_roles(session)
            sync_definitions(session, ROOT)
            seed_demo(session)
    return app


def bulk_load(app: Any, n: int, applicant_bidx: str) -> float:
    """Insert n cases with parties and tasks by SQL; returns seconds taken (load + VACUUM ANALYZE)."""
    db = app.extensions["db"]
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO app_user (id, username, password_hash, kind, tenant_id, is_active, created_at, updated_at)
            SELECT md5('u' || t || r || i), 'bench_' || t || '_' || r || '_' || i, 'x', 'staff', t, true,
                   now(), now()
            FROM unnest(ARRAY['330106', '330110']) t, generate_series(1, :k) i,
                 unnest(ARRAY['acceptor', 'reviewer', 'recorder', 'certifier']) r"""), {"k": COLLEAGUES})
        conn.execute(text("""
            CREATE TEMP TABLE staff AS
            SELECT tenant_id AS tenant, split_part(username, '_', 2) AS role, id AS user_id, 0 AS idx
            FROM app_user WHERE username ~ '^(xh|yh)_(acceptor|reviewer|recorder|certifier)$'
            UNION ALL
            SELECT tenant_id, split_part(username, '_', 3), id, split_part(username, '_', 4)::int
            FROM app_user WHERE username LIKE 'bench_%'"""))
        conn.execute(text("CREATE INDEX ON staff (tenant, role, idx)"))
        version = conn.execute(text("SELECT current_version_id FROM business_type "
                                    "WHERE code = 'transfer_resale'")).scalar()
        applicant = conn.execute(text("SELECT id FROM app_user WHERE username = 'zhangsan'")).scalar()
        conn.execute(text("""
            INSERT INTO reg_case (id, tenant_id, business_type_code, process_version_id, business_no, status, channel,
                                  applicant_id, form_public, correction_items, fee_items, rule_results, created_at,
                                  submitted_at, completed_at)
            SELECT md5('c' || g), CASE WHEN g % 2 = 0 THEN '330106' ELSE '330110' END, 'transfer_resale', :version,
                   '2026' || CASE WHEN g % 2 = 0 THEN '330106' ELSE '330110' END || '20' || lpad(g::text, 8, '0'),
                   CASE WHEN g % 20 = 0 THEN (ARRAY['accepting','reviewing','recording','certifying'])[1 + (g / 20) % 4]
                        ELSE 'completed' END,
                   CASE WHEN g % 7 = 0 THEN 'window' ELSE 'online' END, :applicant, '{}', '[]', '[]', '[]',
                   now() - (g % 720) * interval '1 hour', now() - (g % 720) * interval '1 hour',
                   CASE WHEN g % 20 = 0 THEN NULL ELSE now() END
            FROM generate_series(1, :n) g"""), {"version": version, "applicant": applicant, "n": n})
        conn.execute(text("""
            INSERT INTO party (id, tenant_id, case_id, position, role, label, kind, id_number_bidx)
            SELECT md5('p' || g || '-' || pos), CASE WHEN g % 2 = 0 THEN '330106' ELSE '330110' END, md5('c' || g),
                   pos, (ARRAY['seller', 'buyer'])[pos + 1], (ARRAY['转让方', '受让方'])[pos + 1], 'person',
                   CASE WHEN pos = 1 AND g IN (20, 60, 100, 140) THEN :bidx
                        ELSE substr(md5('person' || ((g * 2 + pos) % 400000)), 1, 32) END
            FROM generate_series(1, :n) g, generate_series(0, 1) pos"""), {"n": n, "bidx": applicant_bidx})
        for number, (stage, role, name, form_key, _status) in enumerate(STAGES):
            conn.execute(text("""
                INSERT INTO task (id, tenant_id, case_id, spiff_task_id, task_name, title, stage, role, form_key,
                                  status, assignee_id, claimed_at, created_at, due_at, completed_at, completed_by,
                                  decision, opinion, result)
                SELECT md5('t' || g || '-' || :number), c.tenant, md5('c' || g), md5('s' || g || '-' || :number),
                       :name, :stage, :stage, :role, :form_key,
                       CASE WHEN g % 20 = 0 AND (g / 20) % 4 = :number THEN 'open' ELSE 'completed' END,
                       CASE WHEN g % 20 = 0 AND (g / 20) % 4 = :number AND g % 3 <> 0 THEN NULL ELSE s.user_id END,
                       CASE WHEN g % 20 = 0 AND (g / 20) % 4 = :number AND g % 3 <> 0 THEN NULL ELSE now() END,
                       now() - (g % 720) * interval '1 hour' + :number * interval '1 hour',
                       current_date + ((g % 11) - 4),
                       CASE WHEN g % 20 = 0 AND (g / 20) % 4 = :number THEN NULL
                            ELSE now() - (g % 720) * interval '1 hour' + (:number + 1) * interval '1 hour' END,
                       CASE WHEN g % 20 = 0 AND (g / 20) % 4 = :number THEN NULL ELSE s.user_id END,
                       CASE WHEN g % 20 = 0 AND (g / 20) % 4 = :number THEN NULL ELSE 'approve' END,
                       NULL, '{}'
                FROM generate_series(1, :n) g
                CROSS JOIN LATERAL (SELECT CASE WHEN g % 2 = 0 THEN '330106' ELSE '330110' END AS tenant) c
                JOIN staff s ON s.tenant = c.tenant AND s.role = :role AND s.idx = (g / 2) % (:k + 1)
                WHERE g % 20 <> 0 OR (g / 20) % 4 >= :number"""),
                {"n": n, "number": number, "stage": stage, "role": role, "name": name, "form_key": form_key,
                 "k": COLLEAGUES})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def actor(app: Any, username: str) -> Any:
    from app.identity.actor import actor_for
    from app.identity.models import User

    with app.extensions["db"].unit_of_work() as session:
        return actor_for(session, session.execute(select(User).where(User.username == username)).scalar_one())


def timed(app: Any, who: Any, flt: InboxFilter, iterations: int) -> list[float]:
    from app.db import set_tenant_scope

    factory = app.extensions["db"].session_factory
    samples = []
    for i in range(iterations + 5):
        session = factory()
        set_tenant_scope(session, who.tenant_scope)
        started = time.perf_counter()
        inbox_page(session, who, flt)
        elapsed = time.perf_counter() - started
        session.close()
        if i >= 5:  # warm-up
            samples.append(elapsed)
    return samples


def timed_page(app: Any, username: str, query: str, iterations: int) -> list[float]:
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "Demo@2026"}).status_code == 302
    samples = []
    for i in range(iterations + 5):
        started = time.perf_counter()
        resp = client.get(f"/workbench/{query}")
        elapsed = time.perf_counter() - started
        assert resp.status_code == 200, resp.status_code
        if i >= 5:
            samples.append(elapsed)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def explain(app: Any, who: Any, flt: InboxFilter) -> list[str]:
    """EXPLAIN ANALYZE of the page query the use case runs for ``flt`` (first plan lines)."""
    from sqlalchemy.dialects import postgresql

    stmt = inbox.page_query(who, flt, date.today())
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with app.extensions["db"].engine.connect() as conn:
        rows = conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)).scalars().all()
    return [r for r in rows if "Index" in r or "Scan" in r or "Sort" in r or "Limit" in r][:8]


def scenarios(applicant_id: str, business_no: str) -> list[tuple[str, str, InboxFilter]]:
    return [
        ("待领 claimable (acceptor)", "xh_acceptor", InboxFilter(tab="claimable")),
        ("待办 mine (acceptor)", "xh_acceptor", InboxFilter(tab="mine")),
        ("已办 done (acceptor)", "xh_acceptor", InboxFilter(tab="done")),
        ("全部 all (leader)", "xh_leader", InboxFilter(tab="all")),
        ("全部 all, page 10 (leader)", "xh_leader", InboxFilter(tab="all", page=10)),
        ("待领 overdue (acceptor)", "xh_acceptor", InboxFilter(tab="claimable", due="overdue")),
        ("全部 by applicant ID (leader)", "xh_leader", InboxFilter(tab="all", applicant_id_number=applicant_id)),
        ("已办 by business no (acceptor)", "xh_acceptor", InboxFilter(tab="done", business_no=business_no)),
    ]


def run(pg_url: str, n: int, iterations: int, *, reuse: bool) -> dict[str, tuple[float, float]]:
    from app.demo import LI_SI
    from app.security.fields import blind_index

    url, fresh = database(pg_url, n, reuse=reuse)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(url, Path(tmp), seed=fresh)
        load = bulk_load(app, n, blind_index(LI_SI["id_number"])) if fresh else 0.0
        with app.extensions["db"].engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                      for t in ("reg_case", "task", "party")}
            business_no = conn.execute(text("SELECT business_no FROM reg_case WHERE tenant_id = '330106' "
                                            "ORDER BY business_no DESC LIMIT 1")).scalar()
        how = f"loaded in {load:.1f} s" if fresh else "reused"
        print(f"\n== {n:,} cases: {how} — rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        results: dict[str, tuple[float, float]] = {}
        actors = {u: actor(app, u) for u in ("xh_acceptor", "xh_leader")}
        for label, username, flt in scenarios(LI_SI["id_number"], business_no):
            samples = timed(app, actors[username], flt, iterations)
            page = inbox_page(app.extensions["db"].session_factory(), actors[username], flt)
            results[label] = (pct(samples, 0.5), pct(samples, 0.99))
            print(f"  {label:32s} p50 {results[label][0]:7.2f} ms  p99 {results[label][1]:7.2f} ms  "
                  f"(rows {len(page.rows)}, counts {page.counts})")
        samples = timed_page(app, "xh_acceptor", "?tab=claimable", max(20, iterations // 4))
        results["GET /workbench/?tab=claimable"] = (pct(samples, 0.5), pct(samples, 0.99))
        print(f"  {'GET /workbench/ (whole page)':32s} p50 {results['GET /workbench/?tab=claimable'][0]:7.2f} ms  "
              f"p99 {results['GET /workbench/?tab=claimable'][1]:7.2f} ms")
        with app.extensions["db"].engine.connect() as conn:
            used = conn.execute(text("SELECT indexrelname, idx_scan FROM pg_stat_user_indexes "
                                     "WHERE relname = 'task' AND idx_scan > 0 ORDER BY idx_scan DESC")).all()
        print("  task index scans during the run: " + ", ".join(f"{name} {count:,}" for name, count in used))
        for label, username, flt in scenarios(LI_SI["id_number"], business_no)[:7]:
            print(f"  EXPLAIN {label}:")
            for line in explain(app, actors[username], flt):
                print(f"      {line.strip()}")
        app.extensions["db"].engine.dispose()
    return results


def main(argv: list[str] | None = None) -> None:
    global BENCH_DB
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the loaded databases for a later --reuse")
    parser.add_argument("--reuse", action="store_true", help="measure kept databases again without reloading")
    parser.add_argument("--db-prefix", default=BENCH_DB,
                        help="name prefix of the bench databases (<prefix>_<n>), so runs on a shared server differ")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run (CI): 200 and 600 cases, 10 iterations, databases of this process")
    args = parser.parse_args(argv)
    BENCH_DB = args.db_prefix
    if args.quick:
        args.sizes, args.iterations = "200,600", 10
        if args.db_prefix == parser.get_default("db_prefix"):
            BENCH_DB = f"{args.db_prefix}_{os.getpid()}"
    sizes = [int(s) for s in args.sizes.split(",")]
    by_size = {n: run(args.pg_url, n, args.iterations, reuse=args.reuse) for n in sizes}
    if len(sizes) >= 2:
        small, large = by_size[sizes[0]], by_size[sizes[-1]]
        print(f"\n== p99 at {sizes[-1]:,} vs {sizes[0]:,} cases (target: ≤ 50 ms and ≤ 1.5× at 1M)")
        for label in large:
            ratio = large[label][1] / small[label][1] if small[label][1] else 0.0
            print(f"  {label:32s} p50 {small[label][0]:7.2f} → {large[label][0]:7.2f} ms   "
                  f"p99 {small[label][1]:7.2f} → {large[label][1]:7.2f} ms  ×{ratio:.2f}")
    if not args.keep:
        for n in sizes:
            drop_database(args.pg_url, n)


if __name__ == "__main__":
    main()
