"""The simulator's mutable state: per-department behaviour switches and what it has received.

The simulator is a development and test double running in its own process (or thread), never beside the
platform's database, so plain memory guarded by a lock is the right store here.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.data import World, build_world

MODES = ("ok", "slow", "fail", "mismatch")


@dataclass
class Behaviour:
    mode: str = "ok"
    delay_s: float = 0.0


@dataclass
class SimulatorState:
    world: World = field(default_factory=build_world)
    behaviour: dict[str, Behaviour] = field(default_factory=dict)
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)   # subscriber → deliveries
    seen_keys: dict[str, set[str]] = field(default_factory=dict)              # subscriber → idempotency keys
    sms: list[dict[str, Any]] = field(default_factory=list)
    tax_cases: dict[str, dict[str, Any]] = field(default_factory=dict)        # business_no → tax case
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    callbacks: list[dict[str, Any]] = field(default_factory=list)             # tax callbacks sent, results
    lock: threading.RLock = field(default_factory=threading.RLock)
    # A reset ends the tax callbacks of the cases before it: a callback thread stops when the generation it
    # started in has passed, and reset() waits for callbacks in flight, so none reaches the next test's app.
    generation: int = 0
    in_flight: int = 0
    idle: threading.Condition = field(default_factory=threading.Condition)

    def reset(self) -> None:
        with self.idle:
            self.generation += 1
            self.idle.wait_for(lambda: self.in_flight == 0, timeout=30)
        with self.lock:
            self.behaviour.clear()
            self.received.clear()
            self.seen_keys.clear()
            self.sms.clear()
            self.tax_cases.clear()
            self.payments.clear()
            self.shipments.clear()
            self.callbacks.clear()

    def behaviour_of(self, department: str) -> Behaviour:
        with self.lock:
            return self.behaviour.get(department, Behaviour())

    def set_behaviour(self, department: str, mode: str, delay_s: float = 0.0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        with self.lock:
            self.behaviour[department] = Behaviour(mode=mode, delay_s=delay_s)

    def receive(self, subscriber: str, key: str, body: dict[str, Any]) -> bool:
        """Record a pushed message; False when the idempotency key was seen (a redelivery, deduped)."""
        with self.lock:
            seen = self.seen_keys.setdefault(subscriber, set())
            if key in seen:
                return False
            seen.add(key)
            self.received.setdefault(subscriber, []).append({"key": key, "body": body, "at": time.time()})
            return True
