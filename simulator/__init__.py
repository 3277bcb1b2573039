"""A separate WSGI app that plays every department the platform shares data with (公安, 民政, 市场监管, 税务,
住建, 法院, 金融监管, 司法, 卫健) plus SMS, face verification, payment, express delivery and a time-stamping
authority (RFC 3161, ``tsa.py``) and an archive system receiving archive packages (``archive.py``).

It has no access to the platform's database: it answers from its own fictional world (``data.py``) and
talks to the platform only over HTTP, like the real departments would. Control endpoints under
``/_control`` make a department slow, failing or returning mismatches, so failure paths are testable.

Run it with ``python -m simulator --port 5010`` (``make run`` does) or, in tests, with
``werkzeug.serving.make_server`` on a free loopback port.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask


@dataclass
class SimulatorConfig:
    """The simulator signs each callback with that department's own secret (the platform's matching setting):
    税务 with ``tax_callback_secret``, the payment gateway with ``payment_callback_secret``."""
    api_key: str
    tax_callback_secret: str
    payment_callback_secret: str
    tax_callback_delay_s: float = 0.1
    callback_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)


def create_simulator_app(config: SimulatorConfig) -> Flask:
    from simulator import archive, control, departments, services, tsa
    from simulator.state import SimulatorState

    app = Flask("bdcdj_simulator")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config["SIM"] = config
    app.extensions["sim_state"] = SimulatorState()
    app.register_blueprint(departments.bp)
    app.register_blueprint(services.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(tsa.bp)
    app.register_blueprint(archive.bp)
    return app
