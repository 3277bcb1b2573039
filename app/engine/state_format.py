"""How a case's workflow instance is stored (``workflow_state.state``): the one place that encodes and decodes it.

What is stored: SpiffWorkflow's own dictionary of the instance (task tree with states and data, workflow
data, pending events), without the spec (the serializer stores a reference to the process version, whose
spec is stored once: app/engine/serializer.py), as compact JSON (no spaces, UTF-8 instead of ``\\uXXXX``)
compressed with zlib, behind a one-byte format tag so a later format can be read beside this one.

Why compressed: the dictionary repeats the same keys, task-spec names and task ids in every task, so zlib
takes a finished 二手房转移 instance from ~9.7 KB to ~1.8 KB (issue 18: stored bytes per case). The task
data holds no personal data (app/engine/runtime.py), so compression changes nothing about who may read it.
A finished instance stays complete and loadable.

Format 2 (issue 18, second cut) also leaves out what each task repeats from the task table: its ``id`` (the
key it is stored under) and its ``parent`` (the task whose ``children`` name it), restored before SpiffWorkflow
reads the dictionary, and compresses against a preset dictionary of the keys every task carries (~1.9 → ~1.6 KB
for a finished 二手房转移). Format 1 rows stay readable.
"""
from __future__ import annotations

import json
import zlib
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from app.engine.specs import serializer

# First byte of a stored state. 1: zlib(compact JSON of the serializer's dict, serializer version included).
ZLIB_JSON = 1
# 2: as 1 without each task's ``id`` and ``parent``, compressed with the preset dictionary below.
ZLIB_JSON_TASKS = 2
# Never change these bytes: every state of format 2 was compressed against them (a new one needs a new format).
_ZDICT = (b'"typename":"Task"},"delta":{"updates":{},"deletions":[]},"internal_data":{},"data":{},'
          b'"triggered":false,"task_spec":"state":64,"last_state_change":17,"children":["')


def dump_state(workflow: BpmnWorkflow) -> bytes:
    """The bytes to store for ``workflow`` (the spec must be in the cache: app/engine/specs.py)."""
    ser = serializer()
    # As BpmnWorkflowSerializer.serialize_json, with compact separators: the registry's encoder turns the
    # values JSON has no type for (dates, …) into tagged dicts, and needs encoder mode while it runs.
    ser.registry._encoder_mode = True
    try:
        dct = ser.to_dict(workflow)
        dct[ser.VERSION_KEY] = ser.VERSION
        _strip_tasks(dct)
        text = json.dumps(dct, cls=ser._encoder_cls, separators=(",", ":"), ensure_ascii=False)
    finally:
        ser.registry._encoder_mode = False
    packer = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, _ZDICT)
    return bytes([ZLIB_JSON_TASKS]) + packer.compress(text.encode("utf-8")) + packer.flush()


def _workflows(dct: dict[str, Any]) -> list[dict[str, Any]]:
    """The top workflow's dictionary and its subprocesses' (each has its own task table)."""
    return [dct, *(dct.get("subprocesses") or {}).values()]


def _strip_tasks(dct: dict[str, Any]) -> None:
    """Leave out what ``_restore_tasks`` gives back exactly; anything else stays."""
    for wf in _workflows(dct):
        tasks = wf.get("tasks") or {}
        for key, task in tasks.items():
            if task.get("id") == key:
                del task["id"]
            if "parent" in task and (task["parent"] is None
                                     or key in (tasks.get(task["parent"]) or {}).get("children", ())):
                del task["parent"]  # a root task, or named by its parent's ``children``


def _restore_tasks(dct: dict[str, Any]) -> None:
    for wf in _workflows(dct):
        tasks = wf.get("tasks") or {}
        parents = {child: key for key, task in tasks.items() for child in task.get("children", [])}
        for key, task in tasks.items():
            task.setdefault("id", key)
            task.setdefault("parent", parents.get(key))


def load_state(blob: bytes) -> BpmnWorkflow:
    """The workflow stored as ``blob`` (its process version's spec must be in the cache)."""
    ser = serializer()
    dct = state_dict(blob)  # what deserialize_json does after json.loads (the serializer has no decoder class)
    ser.migrate(dct)
    return ser.from_dict(dct)


def state_text(blob: bytes) -> str:
    """The JSON text of a stored state as SpiffWorkflow wrote it (for diagnosis and for tests that look inside
    an instance)."""
    return json.dumps(state_dict(blob), separators=(",", ":"), ensure_ascii=False)


def state_dict(blob: bytes) -> dict[str, Any]:
    """The stored state as SpiffWorkflow's dictionary, without building the workflow."""
    data = bytes(blob)
    if data[:1] == bytes([ZLIB_JSON]):
        result: dict[str, Any] = json.loads(zlib.decompress(data[1:]).decode("utf-8"))
        return result
    if data[:1] == bytes([ZLIB_JSON_TASKS]):
        unpacker = zlib.decompressobj(15, _ZDICT)
        result = json.loads((unpacker.decompress(data[1:]) + unpacker.flush()).decode("utf-8"))
        _restore_tasks(result)
        return result
    raise ValueError(f"unknown workflow state format {data[:1]!r}")
