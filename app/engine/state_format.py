"""How a case's workflow instance is stored (``workflow_state.state``): the one place that encodes and decodes it.

What is stored: SpiffWorkflow's own dictionary of the instance (task tree with states and data, workflow
data, pending events), without the spec (the serializer stores a reference to the process version, whose
spec is stored once: app/engine/serializer.py), as compact JSON (no spaces, UTF-8 instead of ``\\uXXXX``)
compressed with zlib, behind a one-byte format tag so a later format can be read beside this one.

Why compressed: the dictionary repeats the same keys, task-spec names and task ids in every task, so zlib
takes a finished 二手房转移 instance from ~9.7 KB to ~1.8 KB (issue 18: stored bytes per case). The task
data holds no personal data (app/engine/runtime.py), so compression changes nothing about who may read it.
A finished instance stays complete and loadable.
"""
from __future__ import annotations

import json
import zlib
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from app.engine.specs import serializer

# First byte of a stored state. 1: zlib(compact JSON of the serializer's dict, serializer version included).
ZLIB_JSON = 1


def dump_state(workflow: BpmnWorkflow) -> bytes:
    """The bytes to store for ``workflow`` (the spec must be in the cache: app/engine/specs.py)."""
    ser = serializer()
    # As BpmnWorkflowSerializer.serialize_json, with compact separators: the registry's encoder turns the
    # values JSON has no type for (dates, …) into tagged dicts, and needs encoder mode while it runs.
    ser.registry._encoder_mode = True
    try:
        dct = ser.to_dict(workflow)
        dct[ser.VERSION_KEY] = ser.VERSION
        text = json.dumps(dct, cls=ser._encoder_cls, separators=(",", ":"), ensure_ascii=False)
    finally:
        ser.registry._encoder_mode = False
    return bytes([ZLIB_JSON]) + zlib.compress(text.encode("utf-8"))


def load_state(blob: bytes) -> BpmnWorkflow:
    """The workflow stored as ``blob`` (its process version's spec must be in the cache)."""
    return serializer().deserialize_json(state_text(blob))


def state_text(blob: bytes) -> str:
    """The JSON text of a stored state (for diagnosis and for tests that look inside an instance)."""
    data = bytes(blob)
    if not data or data[0] != ZLIB_JSON:
        raise ValueError(f"unknown workflow state format {data[:1]!r}")
    return zlib.decompress(data[1:]).decode("utf-8")


def state_dict(blob: bytes) -> dict[str, Any]:
    """The stored state as SpiffWorkflow's dictionary, without building the workflow."""
    result: dict[str, Any] = json.loads(state_text(blob))
    return result
