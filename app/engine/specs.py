"""Parsed process specs: parsed and serialized once per process version, deserialized once per process.

The cache maps a version id to its immutable (spec, subprocess specs) pair, which is safe to share between
requests and processes because a version never changes after it is stored.
"""
from __future__ import annotations

import json
import threading
from typing import Any

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.engine.serializer import spec_reference_config

SpecPair = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]

_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(spec_reference_config(SPIFF_CONFIG)))
_cache: dict[str, SpecPair] = {}
_lock = threading.Lock()


def serializer() -> BpmnWorkflowSerializer:
    return _serializer


def parse_bpmn(xml: bytes, process_id: str, filename: str = "process.bpmn") -> SpecPair:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(xml, filename=filename)
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def spec_to_json(pair: SpecPair) -> str:
    spec, subprocess_specs = pair
    return json.dumps({
        "spec": _serializer.to_dict(spec),
        "subprocess_specs": {name: _serializer.to_dict(s) for name, s in subprocess_specs.items()},
    }, separators=(",", ":"))


def spec_from_json(text: str) -> SpecPair:
    data: dict[str, Any] = json.loads(text)
    spec = _serializer.from_dict(data["spec"])
    subs = {name: _serializer.from_dict(s) for name, s in data["subprocess_specs"].items()}
    return spec, subs


def cached_spec(version_id: str, spec_json: str) -> SpecPair:
    pair = _cache.get(version_id)
    if pair is None:
        pair = spec_from_json(spec_json)
        with _lock:
            _cache.setdefault(version_id, pair)
            pair = _cache[version_id]
    return pair


def is_cached(version_id: str) -> bool:
    return version_id in _cache


def lookup(version_id: str) -> SpecPair:
    """Used by the deserializer: the runtime puts a version's spec in the cache before loading a case."""
    return _cache[version_id]
