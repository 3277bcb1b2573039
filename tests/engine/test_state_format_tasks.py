"""workflow_state format 2 (issue 18): each task's ``id`` and ``parent`` are left out and restored on reading,
so the dictionary SpiffWorkflow gets back is the one it wrote; format 1 rows stay readable."""
from __future__ import annotations

import json
import zlib

from SpiffWorkflow.util.task import TaskState
from test_safe_expressions import gateway_diagram, start

from app.engine.specs import cached_spec, serializer, spec_to_json
from app.engine.state_format import ZLIB_JSON_TASKS, dump_state, load_state, state_dict


def _written(wf) -> dict:  # type: ignore[no-untyped-def]
    ser = serializer()
    ser.registry._encoder_mode = True
    try:
        dct = ser.to_dict(wf)
    finally:
        ser.registry._encoder_mode = False
    dct[ser.VERSION_KEY] = ser.VERSION
    return json.loads(json.dumps(dct, cls=ser._encoder_cls))


def _workflow():  # type: ignore[no-untyped-def]
    wf = start(gateway_diagram(), {"price": 1})
    wf.spec_ref = "test-state-format-2"  # type: ignore[attr-defined]
    cached_spec("test-state-format-2", spec_to_json((wf.spec, wf.subprocess_specs)))
    return wf


def test_the_stored_state_reads_back_as_written_and_loads() -> None:
    wf = _workflow()
    blob = dump_state(wf)
    assert blob[0] == ZLIB_JSON_TASKS
    assert state_dict(blob) == _written(wf)
    [ready] = load_state(blob).get_tasks(state=TaskState.READY, manual=True)
    assert str(ready.id) == str(wf.get_tasks(state=TaskState.READY, manual=True)[0].id)
    assert ready.parent is not None and ready in ready.parent.children


def test_a_state_of_format_1_still_loads() -> None:
    wf = _workflow()
    text = json.dumps(_written(wf), separators=(",", ":"), ensure_ascii=False)
    old = bytes([1]) + zlib.compress(text.encode("utf-8"))
    assert state_dict(old) == _written(wf)
    assert len(load_state(old).get_tasks(state=TaskState.READY, manual=True)) == 1
