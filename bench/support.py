"""What every benchmark needs to run like the platform does, in one place: keys for this run, a real HTTP
server on a loopback port (for the department simulator and for the app when departments call it back),
the simulator itself, and a scratch PostgreSQL database.

Keys: random ones generated for the run (``app.security.keygen.random_keys``) unless the environment
already has them, as the test suite does — a benchmark never needs ``make setup`` or a key from the
repository.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def ensure_keys() -> None:
    """Random keys and callback secrets for this run, unless the environment has them (shared with the
    simulator, which signs 税务's callbacks with the platform's secret)."""
    from app.security.keygen import random_keys

    for name, value in random_keys().items():
        os.environ.setdefault(name, value)


class LiveServer:
    """A WSGI app served for real on a free loopback port (werkzeug, threaded), in a daemon thread."""

    def __init__(self, wsgi_app: Any) -> None:
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line per department call
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.server.daemon_threads = False  # stop() waits for requests in flight (a callback's transaction)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def simulator(tax_callback_delay_s: float = 0.0) -> Iterator[LiveServer]:
    """The department simulator (simulator) on its own port: 公安, 住建, 税务 … answer over
    HTTP like in production; 税务 calls the platform back at the URL pushed with the tax case."""
    from simulator import SimulatorConfig, create_simulator_app

    ensure_keys()
    config = SimulatorConfig(api_key=os.environ["SIMULATOR_API_KEY"],
                             tax_callback_secret=os.environ["TAX_CALLBACK_SECRET"],
                             payment_callback_secret=os.environ["PAYMENT_CALLBACK_SECRET"],
                             tax_callback_delay_s=tax_callback_delay_s,
                             callback_retry_delays=(0.1, 0.2, 0.5, 1.0, 2.0, 3.0))
    server = LiveServer(create_simulator_app(config))
    try:
        yield server
    finally:
        server.stop()


class LateApp:
    """A WSGI callable to serve before the app exists: the app's settings need the server's URL (callbacks)."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Wait for a state another thread or process brings about (a department's callback): poll, then fail
    loudly naming what never happened."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.005)


@contextmanager
def scratch_pg_database(server_url: str, prefix: str) -> Iterator[str | None]:
    """A uniquely named database on the server of ``server_url`` (its own database is only used to CREATE
    and DROP), dropped after; yields None with a note when the server is not reachable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 — any failure means "not reachable here"
        print(f"  PostgreSQL not reachable at {make_url(server_url).render_as_string(hide_password=True)} "
              f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]}) — skipped")
        yield None
        return
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
