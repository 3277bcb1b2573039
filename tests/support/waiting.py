"""Waiting on a state, never on the clock: departments answer asynchronously (e.g. the 完税 callback)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = 15.0) -> None:
    """Poll until ``condition()`` holds; ``timeout_s`` only bounds a failure, a pass returns at once."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
