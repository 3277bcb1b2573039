"""``python -m app.federation_demo`` (``make federation-demo``): four platforms on this machine — national 000000,
浙江 330000, 杭州 330100 and 宁波 330200 — each a process of its own with its own database, keys and files under
``instance/federation/<code>/``, trusting each other's keys (national ↔ province, province ↔ each city), plus the
department simulator. Ctrl-C stops them all. A second run reuses what exists (keys, databases, data).

An entry point like app/renderer.py and in its layer (the top of setup.cfg's stack): a platform's preparing child
builds the app with ``create_app``.

The same preparation is what tests/support/platforms.py runs for the multi-process tests, so what the tests prove
is what the demo runs: ``prepare`` (keys, ``flask setup --demo`` per level and code, ``flask federation peer add``
for each link, in one child process per platform, all at once) and ``start`` (``flask run`` per platform).

With ``FEDERATION_DEMO_DATABASE_URL`` naming a PostgreSQL server (``postgresql+psycopg://postgres@127.0.0.1:5432/``)
each platform gets its own database there (``bdcdj_fed_<code>``); else a SQLite file in its directory.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.config import KEYS_FILE, ROOT, SECRET_NAMES, read_keys_file

HOST = "127.0.0.1"
BASE_PORT = 5100
SIMULATOR_PORT = 5104
# (code, level, name) in port order
PLATFORMS = [("000000", "national", "全国一窗办事平台"), ("330000", "province", "浙江省"),
             ("330100", "city", "杭州市"), ("330200", "city", "宁波市")]
LOGINS = [("admin / ops / analyst", "运维（每个平台）"), ("zhangsan", "申请人 张三：杭州有房，宁波无房"),
          ("wangning", "申请人 王宁：宁波有房，杭州无房"), ("lisi", "申请人 李四：两市均无房"),
          ("xh_acceptor, yh_reviewer …", "杭州 西湖区 / 余杭区 工作人员"),
          ("hs_acceptor, yz_reviewer …", "宁波 海曙区 / 鄞州区 工作人员")]
# What a platform's process must not inherit from the shell that starts it: each has its own keys and database.
OWN_SETTINGS = (*SECRET_NAMES, "FEDERATION_SIGNING_KEY", "DATABASE_URL", "MIGRATE_DATABASE_URL", "INSTANCE_PATH",
                "STORAGE_DIR", "CHECKPOINT_DIR", "PLATFORM_LEVEL", "PLATFORM_CODE", "PUBLIC_BASE_URL",
                "CALLBACK_BASE_URL", "CERT_SIGNING_KEY_FILE", "CERT_SIGNING_CERT_FILE", "CERT_TRUST_ROOT_FILE")


@dataclass(frozen=True)
class PlatformSpec:
    code: str
    level: str
    name: str
    port: int
    instance: Path
    database_url: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def database_url_for(code: str, instance: Path, server_url: str | None, name_prefix: str = "bdcdj_fed") -> str:
    """Its own SQLite file in ``instance``, or its own database on the PostgreSQL server ``server_url``."""
    if not server_url:
        return f"sqlite:///{instance / 'bdcdj.sqlite3'}"
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=f"{name_prefix}_{code}").render_as_string(hide_password=False)


def plan(root: Path, ports: Mapping[str, int], *, database_server: str | None = None,
         codes: Iterable[str] | None = None, name_prefix: str = "bdcdj_fed") -> list[PlatformSpec]:
    """The platforms to run (all four, or ``codes``), each on its port with its directory and database."""
    wanted = set(codes) if codes is not None else {code for code, _, _ in PLATFORMS}
    return [PlatformSpec(code, level, name, ports[code], root / code,
                         database_url_for(code, root / code, database_server, name_prefix))
            for code, level, name in PLATFORMS if code in wanted]


def links(specs: list[PlatformSpec]) -> dict[str, list[PlatformSpec]]:
    """Whom each platform trusts: the national and the province each other, the province and each city each
    other (a city and the national platform talk through the province)."""
    by_level: dict[str, list[PlatformSpec]] = {"national": [], "province": [], "city": []}
    for spec in specs:
        by_level[spec.level].append(spec)
    trusted: dict[str, list[PlatformSpec]] = {spec.code: [] for spec in specs}
    for spec in specs:
        if spec.level == "national":
            trusted[spec.code] = by_level["province"]
        elif spec.level == "province":
            trusted[spec.code] = [*by_level["national"],
                                  *[c for c in by_level["city"] if c.code[:2] == spec.code[:2]]]
        else:
            trusted[spec.code] = [p for p in by_level["province"] if p.code[:2] == spec.code[:2]]
    return trusted


def environment(spec: PlatformSpec, *, simulator_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the platform's processes: this shell's, minus anything one platform must not share
    with another, plus its own level, code, directory, database and addresses."""
    env = {k: v for k, v in os.environ.items()
           if k not in OWN_SETTINGS and not (k.endswith("_FILE") and k[:-5] in OWN_SETTINGS)}
    env.update({"INSTANCE_PATH": str(spec.instance), "DATABASE_URL": spec.database_url,
                "PLATFORM_LEVEL": spec.level, "PLATFORM_CODE": spec.code, "PUBLIC_BASE_URL": spec.url,
                "CALLBACK_BASE_URL": spec.url, "INTEGRATIONS_BASE_URL": simulator_url,
                "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)})
    env.update(extra or {})
    return env


DEPARTMENT_SECRETS = ("SIMULATOR_API_KEY", "TAX_CALLBACK_SECRET", "PAYMENT_CALLBACK_SECRET")


def department_secrets(root: Path) -> dict[str, str]:
    """The departments (the one simulator) are shared by the platforms: their API key and callback secrets come
    from ``<root>/keys.env``, which the simulator reads too. Everything else each platform has of its own."""
    from app.security.keygen import write_keys_file

    write_keys_file(root)
    values = read_keys_file(root / KEYS_FILE)
    return {name: values[name] for name in DEPARTMENT_SECRETS}


def public_key_of(spec: PlatformSpec) -> str:
    from app.federation.signing import private_key, public_key_text

    return public_key_text(private_key(read_keys_file(spec.instance / KEYS_FILE)["FEDERATION_SIGNING_KEY"]))


def _create_postgres_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        return
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()


def prepare(specs: list[PlatformSpec], *, simulator_url: str, extra: Mapping[str, str] | None = None) -> None:
    """Keys, database, migrations, definitions, demo data and peers of every platform; one child process per
    platform, all at once. Idempotent."""
    from app.security.keygen import write_keys_file

    for spec in specs:
        write_keys_file(spec.instance)
        _create_postgres_database(spec.database_url)
    trusted = links(specs)
    children = []
    for spec in specs:
        peers = [{"code": p.code, "name": p.name, "level": p.level, "url": p.url, "public_key": public_key_of(p)}
                 for p in trusted[spec.code]]
        log = (spec.instance / "prepare.log").open("w", encoding="utf-8")
        children.append((spec, log, subprocess.Popen(
            [sys.executable, "-m", "app.federation_demo", "prepare-one", json.dumps(peers, ensure_ascii=False)],
            cwd=ROOT, env=environment(spec, simulator_url=simulator_url, extra=extra), stdout=log,
            stderr=subprocess.STDOUT)))
    failed = []
    for spec, log, child in children:
        if child.wait() != 0:
            failed.append(spec)
        log.close()
    if failed:
        raise RuntimeError("preparing failed: " + ", ".join(
            f"{s.code} (see {s.instance / 'prepare.log'}):\n{(s.instance / 'prepare.log').read_text()[-2000:]}"
            for s in failed))


def prepare_one(peers: list[dict[str, str]]) -> int:
    """In the platform's own process (its environment): ``flask setup --demo``, then ``flask federation peer
    add`` for each peer whose address or key is not already the configured one."""
    from app import create_app
    from app.federation.peers import list_peers

    app = create_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["setup", "--demo"])
    print(result.output)
    if result.exit_code != 0:
        print(result.exception, file=sys.stderr)
        return 1
    with app.app_context(), app.extensions["db"].unit_of_work() as session:
        known = {p.code: (p.base_url, p.public_key) for p in list_peers(session)}
    for peer in peers:
        if known.get(peer["code"]) == (peer["url"], peer["public_key"]):
            continue
        result = runner.invoke(args=["federation", "peer", "add", peer["code"], "--name", peer["name"], "--level",
                                     peer["level"], "--url", peer["url"], "--public-key", peer["public_key"]])
        print(result.output)
        if result.exit_code != 0:
            return 1
    return 0


def start(spec: PlatformSpec, *, simulator_url: str, extra: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The platform's server (``flask run``, threaded) in a process of its own; output in ``server.log``."""
    log = (spec.instance / "server.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", HOST, "--port",
                             str(spec.port), "--no-reload", "--no-debugger", "--with-threads"],
                            cwd=ROOT, env=environment(spec, simulator_url=simulator_url, extra=extra),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def start_simulator(port: int, root: Path) -> subprocess.Popen[bytes]:
    """The department simulator, with the departments' secrets of ``<root>/keys.env`` (``department_secrets``)."""
    log = (root / "simulator.log").open("ab")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "INSTANCE_PATH": str(root), **department_secrets(root)}
    return subprocess.Popen([sys.executable, "-m", "simulator", "--host", HOST, "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def is_ready(url: str, path: str = "/readyz") -> bool:
    try:
        with urllib.request.urlopen(url + path, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_ready(urls: list[str], process_of: Mapping[str, subprocess.Popen[bytes]], *, timeout_s: float = 90,
               path: str = "/readyz") -> None:
    """Until every server answers ``path`` with 200 (a process that exits first is an error)."""
    deadline = time.monotonic() + timeout_s
    pending = list(urls)
    while pending:
        pending = [u for u in pending if not is_ready(u, path)]
        for url in pending:
            if process_of[url].poll() is not None:
                raise RuntimeError(f"{url} exited before it was ready (exit code {process_of[url].returncode})")
        if pending and time.monotonic() > deadline:
            raise RuntimeError("not ready in time: " + ", ".join(pending))
        if pending:
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End one started process (and its group: ``flask run`` may have children) and wait for it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _interrupted(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] == ["prepare-one"]:
        return prepare_one(json.loads(args[1]))
    parser = argparse.ArgumentParser(prog="python -m app.federation_demo", description="四平台演示")
    parser.add_argument("--root", type=Path, default=ROOT / "instance" / "federation")
    parser.add_argument("--base-port", type=int, default=BASE_PORT)
    parser.add_argument("--simulator-port", type=int, default=SIMULATOR_PORT)
    parser.add_argument("--prepare-only", action="store_true", help="只准备（密钥、数据库、演示数据、互信），不启动")
    options = parser.parse_args(args)
    ports = {code: options.base_port + i for i, (code, _, _) in enumerate(PLATFORMS)}
    specs = plan(options.root, ports, database_server=os.environ.get("FEDERATION_DEMO_DATABASE_URL") or None)
    simulator_url = f"http://{HOST}:{options.simulator_port}"
    extra = {"SCHEDULER_ENABLED": os.environ.get("SCHEDULER_ENABLED", "1"), **department_secrets(options.root)}
    print(f"preparing {len(specs)} platforms under {options.root} …", flush=True)
    prepare(specs, simulator_url=simulator_url, extra=extra)
    if options.prepare_only:
        return 0
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a TERM, stops every process started here
        signal.signal(stop_signal, _interrupted)
    processes = {simulator_url: start_simulator(options.simulator_port, options.root)}  # reads <root>/keys.env
    try:
        processes.update({spec.url: start(spec, simulator_url=simulator_url, extra=extra) for spec in specs})
        wait_ready([s.url for s in specs], processes)
        for spec in specs:
            print(f"  {spec.code} {spec.name:<10} {spec.url}   (log {spec.instance / 'server.log'})")
        print(f"  部门模拟服务      {simulator_url}")
        print("演示账号（密码均为 Demo@2026）：")
        for who, what in LOGINS:
            print(f"  {who:<28} {what}")
        print("按 Ctrl-C 停止全部。", flush=True)
        reported: set[str] = set()
        while any(p.poll() is None for p in processes.values()):  # a city stopped on purpose: the others go on
            for url, process in processes.items():
                if process.poll() is not None and url not in reported:
                    reported.add(url)
                    print(f"{url} stopped (exit code {process.returncode}); the others keep running", flush=True)
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in processes.values():
            stop(process)


if __name__ == "__main__":
    sys.exit(main())
