"""HTTP lifecycle benchmark (issue 18): full 二手房 transfers over the REST API against the production server —
gunicorn with app/serving.py (``WEB_CONCURRENCY`` workers, the scheduler in one of them) on a scratch PostgreSQL
database migrated and seeded the way docs/deployment.md says (``flask setup --demo`` as the tables' owner, the app
connecting as ``bdcdj_app``), the department simulator on a loopback port and 税务's 完税 callback reaching the
server — beside the raw SpiffWorkflow baseline and the in-process use-case lifecycle of bench/lifecycle.py,
measured in the same run.

Per lifecycle (≈ 20 requests, keep-alive ``http.client`` from ``--clients`` threads, each selling its own units
back and forth between 张三 and 李四 like bench/lifecycle.py): create, read the case (materials missing), upload
each, confirm by seller and buyer, submit, then per stage 受理 审核 登簿 缮证 the clerk's inbox (待领, filtered to
the case), the task, and its completion — before 审核 the applicant polls the verifications until 完税 is there —
and a last read of the finished case. The server is run through bench/gunicorn_probe.py: app/serving.py's
configuration unchanged plus a probe per worker (requests, SQL statements, RSS at its 1,000th request; cProfile
with ``--profile``, tracemalloc with ``--tracemalloc``).

Printed beside issue 18's targets: lifecycles/s and requests/s, p50/p95/p99 per request kind, 5xx (must be 0),
each worker's RSS after 1,000 requests and after the run, server and PostgreSQL CPU per lifecycle, SQL
statements per lifecycle (in-process and over HTTP), stored bytes per finished case, use-case ÷ raw. Figures are
printed, never asserted. Usage::

    .venv/bin/python bench/http_lifecycle.py              # 4 workers, 16 clients × (1 + 10) lifecycles (~2 min)
    .venv/bin/python bench/http_lifecycle.py --quick      # smoke run: 2 workers, 2 clients × (1 + 2), < 60 s
    .venv/bin/python bench/http_lifecycle.py --profile    # + cProfile of every request thread of every worker
    .venv/bin/python bench/http_lifecycle.py --profile cpu --profile-out req.prof  # their CPU time only, kept
    .venv/bin/python bench/http_lifecycle.py --tracemalloc  # + what the workers' memory is held by
    .venv/bin/python bench/http_lifecycle.py --workers 4 --threads 4 --clients 16 --lifecycles 10
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import platform
import pstats
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gunicorn_probe import smaps_kb, vm_rss_kb  # noqa: E402
from bench.lifecycle import PROCESS_ID, Bench, header, pad, rate, run_raw, run_use_case  # noqa: E402
from bench.support import DEFAULT_PG_URL, ensure_keys, scratch_pg_database, simulator, wait_until  # noqa: E402

APP_ROLE = "bdcdj_app"
DISTRICT = "330106"  # 西湖区: its clerks handle every case here
STAFF = [("受理", "xh_acceptor"), ("审核", "xh_reviewer"), ("登簿", "xh_recorder"), ("缮证", "xh_certifier")]
PASSWORD = "Demo@2026"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UNITS_PER_CLIENT = 4  # two in rotation; a unit whose lifecycle failed is left out and the next one taken
RSS_AFTER = 1000  # requests
TARGETS = {"ratio": 0.2, "statements": 100, "bytes": 8 * 1024, "http_rate": 20.0, "p99_ms": 150.0,
           "rss_mb": 150.0, "inbox_p99_ms": 20.0}
BEFORE = {"ratio": "0.028", "statements": "254", "bytes": "28.2 KiB", "http_rate": "3.3", "p99_ms": "290–800",
          "rss_mb": "211", "inbox_p99_ms": "≤ 16"}
INBOX_LAST = ("see bench/inbox.py (1M cases, ~15 min to load): issue 18's table ≤ 16 ms; bench/README.md's run of "
              "2026-11-29 under load ≈ 7: p99 23–47 ms, p50 13–22 ms")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A request answered something a lifecycle cannot go on from."""


# ------------------------------------------------------------------------------------------------ the client
class Recorder:
    """Every request's latency by kind and status, shared by the client threads."""

    def __init__(self, on_request: Callable[[int], None]) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[int] = Counter()
        self.count = 0
        self.on_request = on_request

    def note(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples[kind].append(seconds)
            self.statuses[status] += 1
            self.count += 1
            count = self.count
        self.on_request(count)

    def reset(self) -> None:
        with self.lock:
            self.samples.clear()
            self.statuses.clear()


class Client:
    """One keep-alive connection (gunicorn closes idle ones after 2 s: reconnect and send again)."""

    def __init__(self, port: int, recorder: Recorder | None, keep_alive: bool = True) -> None:
        self.port = port
        self.recorder = recorder
        self.keep_alive = keep_alive
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, kind: str, method: str, path: str, token: str | None = None, body: Any = None,
             multipart: tuple[dict[str, str], str, bytes] | None = None, expect: tuple[int, ...] = (200,)) -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data: bytes | None = None
        if multipart is not None:
            boundary = uuid.uuid4().hex
            fields, filename, content = multipart
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in fields.items()]
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                         f"Content-Type: application/pdf\r\n\r\n".encode() + content + b"\r\n")
            data = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - started
            if not self.keep_alive:
                self.conn.close()  # the next request connects again (and any worker may accept it)
            if self.recorder is not None:
                self.recorder.note(kind, resp.status, elapsed)
            if resp.status not in expect:
                raise BenchError(f"{kind}: {method} {path} → {resp.status} {payload[:300].decode(errors='replace')}")
            return json.loads(payload) if payload else None
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def sign_in(port: int, usernames: list[str]) -> dict[str, str]:
    client = Client(port, None)
    try:
        return {u: client.call("token", "POST", "/api/v1/auth/token", body={"username": u, "password": PASSWORD})
                ["access_token"] for u in usernames}
    finally:
        client.close()


class Applicant:
    """One client thread's lifecycles: its own units, each sold by its current holder to the other person."""

    def __init__(self, index: int, units: list[str], people: dict[str, dict[str, str]], tokens: dict[str, str],
                 client: Client) -> None:
        self.index = index
        self.units = units
        self.owner = {code: "zhangsan" for code in units}
        self.people = people
        self.tokens = tokens
        self.client = client
        self.done = 0
        self.failed = 0
        self.last_case: tuple[str, str] | None = None

    def lifecycle(self) -> None:
        if not self.units:
            raise BenchError(f"client {self.index}: no unit left")
        try:
            self._lifecycle()
        except (BenchError, TimeoutError):
            self.units.remove(self.units[self.done % min(2, len(self.units))])  # its case is stuck: move on
            self.failed += 1
            raise

    def _lifecycle(self) -> None:
        call, tokens = self.client.call, self.tokens
        unit = self.units[self.done % min(2, len(self.units))]
        seller = self.owner[unit]
        buyer = "lisi" if seller == "zhangsan" else "zhangsan"
        form = {"unit_code": unit, "buyer_name": self.people[buyer]["name"],
                "buyer_id_number": self.people[buyer]["id_number"], "price": 2_350_000,
                "contract_no": f"WQ2026-9{self.index:02d}{self.done:03d}", "use": "住宅", "share_mode": "单独所有"}
        app = "/api/v1/applications"
        case_id = call("create", "POST", app, tokens[seller], {"business_type": PROCESS_ID, "form": form},
                       expect=(201,))["id"]
        missing = call("GET case", "GET", f"{app}/{case_id}", tokens[seller])["materials_missing"]
        for code in missing:
            call("upload material", "POST", f"{app}/{case_id}/materials", tokens[seller],
                 multipart=({"code": code}, f"{code}.pdf", PDF), expect=(201,))
        call("confirm", "POST", f"{app}/{case_id}/confirm", tokens[seller])
        call("confirm", "POST", f"{app}/{case_id}/confirm", tokens[buyer])
        submitted = call("submit", "POST", f"{app}/{case_id}/submit", tokens[seller])
        business_no = submitted["business_no"]
        for stage, clerk in STAFF:
            if stage == "审核":  # 登簿 opens once 税务 called back with 完税 (the simulator calls at once)
                wait_until(lambda: any(s["source"] == "tax" for s in call(  # noqa: B023
                    "GET verifications", "GET", f"{app}/{case_id}/verifications", tokens[seller])["items"]),
                    f"完税 callback for {business_no}", timeout_s=60)
            query = urlencode({"tab": "claimable", "business_no": business_no, "stage": stage})
            items = call("GET inbox (待领)", "GET", f"/api/v1/tasks?{query}", tokens[clerk])["items"]
            if len(items) != 1:
                raise BenchError(f"{stage}: the inbox shows {len(items)} tasks of {business_no}: {items}")
            task_id = quote(items[0]["id"])
            call("GET task", "GET", f"/api/v1/tasks/{task_id}", tokens[clerk])
            call(f"complete {stage}", "POST", f"/api/v1/tasks/{task_id}/complete", tokens[clerk],
                 {"decision": "approve", "opinion": "符合规定", "confirm_record": True})
        final = call("GET case", "GET", f"{app}/{case_id}", tokens[seller])
        if final["status"] != "completed":
            raise BenchError(f"{business_no} ended {final['status']}, not completed")
        self.owner[unit] = buyer
        self.done += 1
        self.last_case = (case_id, business_no)


# ------------------------------------------------------------------------------------------- set-up, server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_role_url(owner_url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(owner_url).set(username=APP_ROLE, password=APP_ROLE).render_as_string(hide_password=False)


def ensure_app_role(owner_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(owner_url)
    with engine.begin() as conn:  # roles are per cluster (tests/conftest.py does the same)
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).scalar() is None:
            conn.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{APP_ROLE}'"))
    engine.dispose()


def unit_records(clients: int) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """张三's bench units as register-import records (the importer's JSON Lines shape, like app/demo.py), and
    each client's unit codes."""
    from app.demo import ZHANG_SAN
    from app.identifiers import make_unit_code

    records, per_client = [], []
    for c in range(clients):
        codes = []
        for k in range(UNITS_PER_CLIENT):
            n = c * UNITS_PER_CLIENT + k + 1
            code = make_unit_code(DISTRICT, 1, 3, "GB", 300 + n // 100, 1 + n // 100, 100 + n % 100)
            codes.append(code)
            records.append({
                "unit_code": code, "tenant": DISTRICT, "location": f"杭州市压测路{n}号1单元{100 + n % 100}室",
                "use": "住宅", "area_m2": "89.00", "right_nature": "出让", "land_term_end": "2088-12-31",
                "rights": [{"type": "ownership", "business_no": f"2015{DISTRICT}30{n:06d}",
                            "cert_no": f"浙(2015)杭州市不动产权第{3_000_000 + n:07d}号", "registered_at": "2015-06-01",
                            "holders": [{"name": ZHANG_SAN["name"], "id_type": "身份证",
                                         "id_number": ZHANG_SAN["id_number"], "share_mode": "单独所有"}]}]})
        per_client.append(codes)
    return records, per_client


def flask_command(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Server:
    """gunicorn -c python:bench.gunicorn_probe (= app/serving.py + the probe) as a subprocess."""

    def __init__(self, env: dict[str, str], port: int, logs: Path) -> None:
        self.err_path = logs / "gunicorn.err"
        with open(logs / "gunicorn.out", "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:bench.gunicorn_probe", "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT, env=env, stdout=out, stderr=err)
        self.port = port

    def errors(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def ready(self) -> bool:
        assert self.process.poll() is None, f"gunicorn exited early:\n{self.errors()[-3000:]}"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/readyz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def workers(self) -> list[int]:
        pid = self.process.pid
        return sorted(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())

    def renderers(self) -> list[int]:
        """The workers' children: the renderer process the scheduler's lease holder starts (app/renderer.py), a
        child of the thread that ran the first document job (hence every task's list)."""
        found = []
        for worker in self.workers():
            for children in Path(f"/proc/{worker}/task").glob("*/children"):
                with contextlib.suppress(OSError):
                    found += [int(c) for c in children.read_text().split()]
        return sorted(found)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5), after "pid (comm)"


def pg_backends(owner_url: str) -> list[int]:
    """The PostgreSQL backends connected to the bench database (the workers' pools), this query's own left out."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(owner_url)
    try:
        with engine.connect() as conn:
            return [int(p) for p in conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                {"db": make_url(owner_url).database}).scalars()]
    finally:
        engine.dispose()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def mb(kb: int | None) -> str:
    return "   n/a" if kb is None else f"{kb / 1024:6.1f}"


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


# ------------------------------------------------------------------------------------------------ the load
def run_http(args: argparse.Namespace, raw_rate: float) -> dict[str, Any]:
    header(f"3. Over HTTP — gunicorn {args.workers} workers × {args.threads} threads, PostgreSQL, "
           f"{args.clients} clients × ({args.warmup} warm-up + {args.lifecycles}) lifecycles, "
           f"{'a connection per request' if args.no_keep_alive else 'keep-alive'}")
    result: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(simulator())
        owner_url = stack.enter_context(scratch_pg_database(args.pg_url, "bench_http"))
        if owner_url is None:
            print("  skipped: PostgreSQL not reachable; use --pg-url")
            return result
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-http-")))
        probe_dir = work / "probe"
        probe_dir.mkdir()
        ensure_app_role(owner_url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": app_role_url(owner_url), "MIGRATE_DATABASE_URL": owner_url,
               "INSTANCE_PATH": str(work / "instance"), "STORAGE_DIR": str(work / "files"),
               "INTEGRATIONS_BASE_URL": sim.url, "CALLBACK_BASE_URL": base, "PUBLIC_BASE_URL": base,
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        env.pop("SCHEDULER_ENABLED", None)
        t = time.perf_counter()
        flask_command(env, "setup", "--demo")  # migrate as the owner, grant bdcdj_app, definitions, demo data
        records, units = unit_records(args.clients)
        units_file = work / "units.jsonl"
        units_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        flask_command(env, "registry", "import", str(units_file))
        print(f"  set-up (flask setup --demo as the owner, {len(records)} units through flask registry import): "
              f"{time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        server_env = {**env, "SCHEDULER_ENABLED": "1", "WEB_CONCURRENCY": str(args.workers),
                      "WEB_THREADS": str(args.threads), "BENCH_PROBE_DIR": str(probe_dir),
                      "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}  # as `make serve` runs it
        server_env.pop("MIGRATE_DATABASE_URL")
        if args.profile:
            server_env["BENCH_PROFILE"] = "cpu" if args.profile == "cpu" else "1"
        if args.tracemalloc:
            server_env["BENCH_TRACEMALLOC"] = str(args.tracemalloc)
        server = Server(server_env, port, work)
        stack.callback(server.stop)
        wait_until(server.ready, "gunicorn to answer /readyz with 200", timeout_s=180)
        wait_until(lambda: len(server.workers()) == args.workers, "every worker to start", timeout_s=60)
        print(f"  gunicorn ready in {time.perf_counter() - t:.1f} s (workers {server.workers()})")

        from app.demo import LI_SI, ZHANG_SAN

        tokens = sign_in(port, ["zhangsan", "lisi", *(clerk for _, clerk in STAFF)])
        people = {"zhangsan": ZHANG_SAN, "lisi": LI_SI}
        rss_after: dict[int, int | None] = {}

        def on_request(count: int) -> None:
            if count == RSS_AFTER:
                rss_after.update({pid: vm_rss_kb(pid) for pid in server.workers()})

        recorder = Recorder(on_request)
        applicants = [Applicant(i, units[i], people, tokens, Client(port, recorder, not args.no_keep_alive))
                      for i in range(args.clients)]
        warmed, go = threading.Barrier(args.clients + 1), threading.Barrier(args.clients + 1)
        errors: list[str] = []
        finished: list[float] = []

        def attempt(applicant: Applicant, label: str) -> bool:
            """One lifecycle; a failed one is noted and the client goes on with its next unit."""
            try:
                applicant.lifecycle()
                return True
            except (BenchError, TimeoutError) as exc:
                errors.append(f"client {applicant.index}{label}: {exc}")
                return bool(applicant.units)

        def drive(applicant: Applicant) -> None:
            try:
                for _ in range(args.warmup):
                    if not attempt(applicant, " (warm-up)"):
                        break
                warmed.wait()
                go.wait()
            except threading.BrokenBarrierError:
                return
            except Exception as exc:  # noqa: BLE001 — reported below; the run goes on without this client
                errors.append(f"client {applicant.index} (warm-up): {type(exc).__name__}: {exc}")
                warmed.abort()
                return
            try:
                for _ in range(args.lifecycles):
                    if not attempt(applicant, ""):
                        break
            except Exception as exc:  # noqa: BLE001
                errors.append(f"client {applicant.index}: {type(exc).__name__}: {exc}")
            finally:
                finished.append(time.perf_counter())

        threads = [threading.Thread(target=drive, args=(a,), daemon=True) for a in applicants]
        for thread in threads:
            thread.start()
        try:
            warmed.wait()
        except threading.BrokenBarrierError:
            for thread in threads:
                thread.join(timeout=5)
            print("  the warm-up failed:")
            for line in errors:
                print(f"    {line}")
            print_server_errors(server)
            result["errors"] = errors
            return result
        recorder.reset()
        warm_done = sum(a.done for a in applicants)
        warm_errors = len(errors)
        workers = server.workers()
        backends = pg_backends(owner_url)
        server_pids = [server.process.pid, *workers, *server.renderers()]  # a renderer started in the warm-up
        cpu0 = {pid: cpu_seconds(pid) for pid in server_pids}
        pg0 = {pid: cpu_seconds(pid) for pid in backends}
        own0 = time.process_time()
        load0 = os.getloadavg()[0]
        started = time.perf_counter()
        go.wait()
        for thread in threads:
            thread.join()
        elapsed = max(finished) - started
        own_cpu = time.process_time() - own0
        renderers = server.renderers()
        server_cpu = sum(cpu_seconds(pid) - cpu0.get(pid, 0.0)
                         for pid in [server.process.pid, *server.workers(), *renderers])
        backends_end = pg_backends(owner_url)
        pg_cpu = sum(cpu_seconds(pid) - pg0.get(pid, 0.0) for pid in backends_end)
        rss_end = {pid: vm_rss_kb(pid) for pid in server.workers()}
        smaps_end = {pid: smaps_kb(pid) for pid in [*server.workers(), *renderers]}
        lifecycles = sum(a.done for a in applicants) - warm_done
        requests = sum(len(v) for v in recorder.samples.values())
        http_rate = rate(lifecycles, elapsed)
        all_samples = [s for v in recorder.samples.values() for s in v]
        server_5xx = sum(n for status, n in recorder.statuses.items() if status >= 500)

        print(f"  load average at the start {load0:.1f}, at the end {os.getloadavg()[0]:.1f} (2 cores: other "
              "processes share them)")
        print(f"  {lifecycles} lifecycles in {elapsed:.1f} s: {http_rate:6.2f} lifecycles/s, "
              f"{rate(requests, elapsed):6.1f} requests/s, {requests / max(lifecycles, 1):.1f} requests per lifecycle")
        print(f"  statuses {dict(sorted(recorder.statuses.items()))}; 5xx: {server_5xx}")
        if errors:
            print(f"  {len(errors)} lifecycles failed (each client went on with its next unit); the first 5:")
            for line in errors[:5]:
                print(f"    {line[:300]}")
        if errors or server_5xx:
            print_server_errors(server)
        if warm_errors:
            print(f"  ({warm_errors} of the failures were in the warm-up)")
        print(f"    {pad('request kind', 22)} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        rows = sorted(recorder.samples.items(), key=lambda kv: -percentile(kv[1], 0.99))
        for kind, values in [*rows, ("all requests", all_samples)]:
            print(f"    {pad(kind, 22)} {len(values):6d} {1000 * percentile(values, 0.5):8.1f} "
                  f"{1000 * percentile(values, 0.95):8.1f} {1000 * percentile(values, 0.99):8.1f} "
                  f"{1000 * max(values):8.1f}")
        per = max(lifecycles, 1)
        print(f"  CPU per lifecycle: server (master + workers + renderer) {1000 * server_cpu / per:.1f} ms, PostgreSQL "
              f"({len(backends_end)} backends of the bench database) {1000 * pg_cpu / per:.1f} ms, this process "
              f"(clients + simulator) {1000 * own_cpu / per:.1f} ms; the server used {server_cpu / elapsed:.2f} "
              f"cores, PostgreSQL {pg_cpu / elapsed:.2f}")
        print(f"  worker RSS (MB; VmRSS from /proc) after the first {RSS_AFTER} requests of the run / after the run, "
              "and after the run PSS (shared pages split among the processes sharing them) / USS (its own pages):")
        for pid in workers:
            mem = smaps_end.get(pid) or {}
            print(f"    worker {pid}: {mb(rss_after.get(pid))} / {mb(rss_end.get(pid))}   PSS {mb(mem.get('pss'))}"
                  f"  USS {mb(mem.get('uss'))}  anonymous {mb(mem.get('anon'))}   (target ≤ {TARGETS['rss_mb']:.0f} MB "
                  "VmRSS)")
        for pid in renderers:  # not a web worker: the one process that loads the PDF stack (app/renderer.py)
            mem = smaps_end.get(pid) or {}
            print(f"    renderer process {pid} (the scheduler's PDFs, not a web worker): VmRSS {mb(vm_rss_kb(pid))}"
                  f"   PSS {mb(mem.get('pss'))}  USS {mb(mem.get('uss'))}")

        last = applicants[0].last_case
        stored: tuple[int, dict[str, tuple[int, int]]] | None = None
        if last is not None:
            from app.db import Database

            database = Database(owner_url)
            try:
                main, _extra, _how = Bench.stored_bytes(SimpleNamespace(  # type: ignore[arg-type]
                    last_case=last, dialect="postgresql", db=database))
            finally:
                database.engine.dispose()
            stored = (sum(size for _, size in main.values()), main)
            print(f"  stored bytes of the last finished case of client 0 (pg_column_size, as bench/lifecycle.py): "
                  f"{stored[0]} B = {stored[0] / 1024:.2f} KiB — " + ", ".join(
                      f"{table} {rows}×{size} B" for table, (rows, size) in main.items() if rows))

        code = server.stop()
        probes = [json.loads(p.read_text()) for p in sorted(probe_dir.glob("*.json"))]
        statements = sum(p["statements"] for p in probes) if probes else float("nan")
        total_lifecycles = sum(a.done for a in applicants)
        print(f"  gunicorn stopped (SIGTERM) with exit code {code}; per worker (probe): "
              + "; ".join(f"{p['pid']}: {p['requests']} requests, {p['statements']} statements, RSS at its "
                          f"{RSS_AFTER}th request {mb(p['rss_kb_at_1000'])} MB, {p.get('modules')} modules, "
                          f"{p.get('threads')} threads{', the scheduler' if p.get('scheduler') else ''}, PDF stack "
                          f"{'loaded: ' + ', '.join(p['pdf_stack']) if p.get('pdf_stack') else 'not loaded'}"
                          for p in probes))
        print(f"  SQL statements per lifecycle over HTTP (every worker thread: requests, 完税 callbacks, jobs; "
              f"warm-up included): {statements / max(total_lifecycles, 1):.0f}")
        if args.tracemalloc:
            print_tracemalloc(probes)
        if args.profile:
            print_profile(probe_dir, args.profile_out)
        result.update(rate=http_rate, p99=percentile(all_samples, 0.99), worst=rows[0] if rows else None,
                      server_5xx=server_5xx, errors=errors, rss_after=rss_after, rss_end=rss_end,
                      probes=probes, stored=stored, statements=statements / max(total_lifecycles, 1),
                      server_cpu_ms=1000 * server_cpu / per, pg_cpu_ms=1000 * pg_cpu / per,
                      ratio_raw=http_rate / raw_rate)
    return result


def print_server_errors(server: Server, limit: int = 2) -> None:
    """The last few tracebacks in gunicorn's error log (the app logs an unhandled error there), shortened."""
    lines = server.errors().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    print(f"  gunicorn's error log: {len(starts)} tracebacks; the end of the last {min(limit, len(starts))}:")
    for i in starts[-limit:]:
        end = next((j for j in range(i + 1, len(lines)) if lines[j] and not lines[j][0].isspace()), len(lines) - 1)
        for line in [lines[i - 1], *lines[max(i + 1, end - 16):end + 1]]:
            print(f"    {line[:200]}")


def print_tracemalloc(probes: list[dict[str, Any]]) -> None:
    header("tracemalloc: allocations alive at exit, traced from each worker's request "
           f"{probes[0].get('traced_from', '?') if probes else '?'} (top files, then top 12 lines)")
    for p in probes:
        if "top_lines" not in p:
            continue
        print(f"  worker {p['pid']}: {p['traced_kb']} KiB traced, RSS at exit {mb(p['rss_kb_at_exit'])} MB")
        for where, kb, count in p["top_files"][:8]:
            print(f"    {kb:7d} KiB {count:7d} blocks  {where.replace(str(ROOT) + os.sep, '')}")
        for where, kb, count in p["top_lines"][:12]:
            print(f"    {kb:7d} KiB {count:7d} blocks  {where.replace(str(ROOT) + os.sep, '')}")


def print_profile(probe_dir: Path, out: str | None = None) -> None:
    files = sorted(probe_dir.glob("*.prof"))
    if not files:
        print("  (no profile written)")
        return
    stats = pstats.Stats(str(files[0]))
    for f in files[1:]:
        stats.add(str(f))
    if out:
        stats.dump_stats(out)  # for pstats / snakeviz: callers, callees, any function
    header(f"cProfile of every request thread of {len(files)} workers (top 30 by cumulative time; slower than "
           "unprofiled)")
    buffer = io.StringIO()
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(30)
    print(re.sub(r"/\S*site-packages/", "", buffer.getvalue().replace(str(ROOT) + os.sep, "")).rstrip())
    header("… the same by own time (tottime), top 25")
    buffer = io.StringIO()
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(25)
    print(re.sub(r"/\S*site-packages/", "", buffer.getvalue().replace(str(ROOT) + os.sep, "")).rstrip())
    header("own time by library (share of all profiled own time)")
    own: Counter[str] = Counter()
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        own[library_of(filename)] += tottime
    total = sum(own.values()) or 1.0
    for library, seconds in own.most_common(12):
        print(f"    {library:<28} {100 * seconds / total:5.1f} %")


def library_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename.startswith(str(ROOT)):
        rel = filename[len(str(ROOT)) + 1:].split("/")
        return "/".join(rel[:2]) if rel[0] == "app" and len(rel) > 2 else rel[0]
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    return "stdlib"


# --------------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 workers, 2 clients × (1 + 2) lifecycles")
    parser.add_argument("--workers", type=int, help="gunicorn workers (WEB_CONCURRENCY; default 4, quick 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (WEB_THREADS, default 4)")
    parser.add_argument("--clients", type=int, help="client threads, each with its own units (default 16, quick 2)")
    parser.add_argument("--lifecycles", type=int, help="measured lifecycles per client (default 10, quick 2)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up lifecycles per client (default 1)")
    parser.add_argument("--raw", type=int, help="raw SpiffWorkflow lifecycles (default 500, quick 20)")
    parser.add_argument("--use-case", type=int, help="in-process use-case lifecycles on SQLite (default 20, quick 3)")
    parser.add_argument("--no-keep-alive", action="store_true",
                        help="a new connection per request, as nginx's default upstream does: with keep-alive a "
                             "gthread worker that accepted a client's connection serves all its requests")
    parser.add_argument("--profile", nargs="?", const="wall", choices=("wall", "cpu"),
                        help="cProfile every request thread of every worker; wall (default): elapsed time, waits "
                             "for PostgreSQL and locks included; cpu: the thread's CPU time (time.thread_time)")
    parser.add_argument("--profile-out", metavar="FILE", help="with --profile: write the merged pstats file")
    parser.add_argument("--tracemalloc", type=int, nargs="?", const=100, default=0, metavar="FROM",
                        help="trace allocations from each worker's FROM-th request (default 100; 1: from the start)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL),
                        help=f"PostgreSQL server for the scratch database (default {DEFAULT_PG_URL}, or $BENCH_PG_URL)")
    args = parser.parse_args(argv)
    args.workers = args.workers or (2 if args.quick else 4)
    args.clients = args.clients or (2 if args.quick else 16)
    args.lifecycles = args.lifecycles or (2 if args.quick else 10)
    raw_warmup, raw_count = (5, args.raw or 20) if args.quick else (30, args.raw or 500)
    uc_warmup, uc_count = (1, args.use_case or 3) if args.quick else (3, args.use_case or 20)
    import logging

    import gunicorn
    import sqlalchemy

    logging.getLogger("alembic").setLevel(logging.WARNING)
    ensure_keys()  # one set of random keys for the setup commands, the server and the simulator
    # The demo's 22 accounts hashed with scrypt take seconds of set-up; the test suite seeds them cheaply too
    # (tests/support/settings.py). Sign-ins are not part of any figure here.
    os.environ.setdefault("PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    print(f"HTTP lifecycle benchmark — issue 18 ({'quick' if args.quick else 'default'} run"
          f"{', profiled' if args.profile else ''}{', tracemalloc' if args.tracemalloc else ''})")
    print(f"Python {platform.python_version()}, gunicorn {gunicorn.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {platform.platform()}")
    started = time.perf_counter()

    header("1. Raw SpiffWorkflow baseline (bench/lifecycle.py run_raw: no database)")
    raw_elapsed, _ = run_raw(raw_warmup, raw_count)
    raw_rate = rate(raw_count, raw_elapsed)
    print(f"  {raw_count} lifecycles after {raw_warmup} warm-up: {raw_rate:8.1f} lifecycles/s")

    with tempfile.TemporaryDirectory(prefix="bench-http-sqlite-") as tmp:
        uc = run_use_case("SQLite (bench/lifecycle.py, in-process)", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                          Path(tmp), uc_warmup, uc_count, raw_rate, profile=False)

    http = run_http(args, raw_rate)

    header("Issue 18's figures beside their targets")
    rows: list[tuple[str, str, str, str, str]] = []  # figure, before, now, target, verdict
    ratio = uc["whole"] / raw_rate
    rows.append(("use-case ÷ raw SpiffWorkflow (SQLite, whole lifecycle)", BEFORE["ratio"], f"{ratio:.3f}",
                 f"≥ {TARGETS['ratio']}", verdict(ratio >= TARGETS["ratio"])))
    rows.append(("SQL statements per lifecycle (in-process, SQLite)", BEFORE["statements"], f"{uc['sql']:.0f}",
                 f"≤ {TARGETS['statements']}", verdict(uc["sql"] <= TARGETS["statements"])))
    rows.append(("stored bytes per finished case (SQLite)", BEFORE["bytes"], f"{uc['bytes'] / 1024:.1f} KiB",
                 f"≤ {TARGETS['bytes'] // 1024} KiB", verdict(uc["bytes"] <= TARGETS["bytes"])))
    if http.get("stored"):
        size = http["stored"][0]
        rows.append(("stored bytes per finished case (PostgreSQL, HTTP run)", BEFORE["bytes"],
                     f"{size / 1024:.1f} KiB", f"≤ {TARGETS['bytes'] // 1024} KiB",
                     verdict(size <= TARGETS["bytes"])))
    if "rate" in http:
        rows.append((f"HTTP lifecycles/s, gunicorn {args.workers} workers + PostgreSQL", BEFORE["http_rate"],
                     f"{http['rate']:.2f}", f"≥ {TARGETS['http_rate']:.0f}",
                     verdict(http["rate"] >= TARGETS["http_rate"])))
        worst = http["worst"]
        rows.append(("p99 per request (all kinds)", BEFORE["p99_ms"], f"{1000 * http['p99']:.0f} ms",
                     f"≤ {TARGETS['p99_ms']:.0f} ms", verdict(1000 * http["p99"] <= TARGETS["p99_ms"])))
        if worst:
            p99 = 1000 * percentile(worst[1], 0.99)
            rows.append((f"  worst kind: {worst[0]}", "", f"{p99:.0f} ms", f"≤ {TARGETS['p99_ms']:.0f} ms",
                         verdict(p99 <= TARGETS["p99_ms"])))
        rows.append(("5xx answers", "400/500s", str(http["server_5xx"]), "0", verdict(http["server_5xx"] == 0)))
        rss_values = [kb for kb in http["rss_after"].values() if kb is not None]
        if rss_values:
            top = max(rss_values) / 1024
            rows.append((f"worker RSS after {RSS_AFTER} requests (largest worker)", BEFORE["rss_mb"] + " MB",
                         f"{top:.0f} MB", f"≤ {TARGETS['rss_mb']:.0f} MB", verdict(top <= TARGETS["rss_mb"])))
        own = [p["rss_kb_at_1000"] for p in http["probes"] if p.get("rss_kb_at_1000")]
        if own:
            top = max(own) / 1024
            rows.append((f"  … at a worker's own {RSS_AFTER}th request (largest)", BEFORE["rss_mb"] + " MB",
                         f"{top:.0f} MB", f"≤ {TARGETS['rss_mb']:.0f} MB", verdict(top <= TARGETS["rss_mb"])))
        rows.append(("server CPU per lifecycle", "~305 ms", f"{http['server_cpu_ms']:.0f} ms", "", ""))
        rows.append(("PostgreSQL CPU per lifecycle", "~77 ms", f"{http['pg_cpu_ms']:.0f} ms", "", ""))
        rows.append(("SQL statements per lifecycle over HTTP (incl. polls, jobs)", "≈ 380",
                     f"{http['statements']:.0f}", "", ""))
        rows.append(("HTTP lifecycles/s ÷ raw SpiffWorkflow (same run)", "", f"{http['ratio_raw']:.3f}", "", ""))
    rows.append(("inbox p99 at 1M cases", BEFORE["inbox_p99_ms"] + " ms", "not run here",
                 f"≤ {TARGETS['inbox_p99_ms']:.0f} ms", "—"))
    print(f"  {pad('figure', 58)} {pad('before', 11)} {pad('now', 11)} {pad('target', 10)}")
    for figure, before, now, target, ok in rows:
        print(f"  {pad(figure, 58)} {pad(before, 11)} {pad(now, 11)} {pad(target, 10)} {ok}")
    print(f"  inbox: {INBOX_LAST}")
    print(f"  raw SpiffWorkflow baseline in this run: {raw_rate:.1f} lifecycles/s")
    if args.profile:
        print("  NOTE: measured under cProfile (every request slower): quote a run without --profile")
    print(f"  total run time {time.perf_counter() - started:.1f} s")
    return 1 if http.get("errors") or http.get("server_5xx") else 0


if __name__ == "__main__":
    sys.exit(main())
