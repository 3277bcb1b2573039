"""Plumbing shared by the simulator's blueprints: API-key check, behaviour switches, signatures."""
from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from flask import current_app, jsonify, request

from simulator.state import SimulatorState


def state() -> SimulatorState:
    return current_app.extensions["sim_state"]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``"<timestamp>.<raw body>"``, hex — the platform's callback signature format."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def department(code: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Authenticate the caller and apply the department's behaviour; the view gets ``mismatch=...``."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if request.headers.get("Authorization", "") != f"Bearer {current_app.config['SIM'].api_key}":
                return jsonify(error="unauthorized", message="接口凭证无效"), 401
            behaviour = state().behaviour_of(code)
            if behaviour.mode == "slow" or behaviour.delay_s:
                time.sleep(behaviour.delay_s or 2.0)
            if behaviour.mode == "fail":
                return jsonify(error="unavailable", message=f"{code} 服务故障（模拟）"), 503
            return view(*args, mismatch=behaviour.mode == "mismatch", **kwargs)

        return inner

    return wrap


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def mark(expected: Any, actual: Any) -> str:
    return "一致" if expected is not None and str(expected).strip() == str(actual).strip() else "不一致"
