"""Control endpoints for developers and tests: make a department slow / failing / mismatching, reset,
and read what the simulator received (pushed messages, tax cases, callbacks)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from simulator.common import body, state

bp = Blueprint("sim_control", __name__, url_prefix="/_control")


@bp.post("/reset")
def reset() -> Any:
    state().reset()
    return jsonify(reset=True)


@bp.post("/<department>")
def set_behaviour(department: str) -> Any:
    q = body()
    try:
        state().set_behaviour(department, str(q.get("mode", "ok")), float(q.get("delay_s") or 0))
    except ValueError as err:
        return jsonify(error=str(err)), 400
    return jsonify(department=department, mode=q.get("mode", "ok"))


@bp.get("/state")
def show_state() -> Any:
    sim = state()
    with sim.lock:
        return jsonify(
            behaviour={k: vars(v) for k, v in sim.behaviour.items()},
            received={k: [{"key": m["key"], "body": m["body"]} for m in v] for k, v in sim.received.items()},
            tax_cases=sim.tax_cases, callbacks=sim.callbacks)
