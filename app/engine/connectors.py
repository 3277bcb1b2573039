"""Connector registry for BPMN service tasks.

A diagram names an operation (``<spiffworkflow:serviceTaskOperator id="registry.record">``); the code
that performs it lives in ``app/integrations`` and registers itself here with ``@connector(...)``.
Analysts can therefore only reach operations a developer has deliberately exposed, and the definition
loader can refuse a diagram whose operators are unknown (``known_operators()`` +
``service_operators_in()``) before any case ever runs it.

A connector is ``fn(context, params) -> dict``: ``context`` is whatever the caller put on
``SafeScriptEngine.context`` for this run (DB session, case …), ``params`` are the diagram's parameters
already evaluated by the safe expression language. Connectors raise ``DomainError`` for failures a user
can act on; the engine keeps that exception reachable so the caller can roll back and show its message.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from app.engine.providers import load_providers
from app.errors import DefinitionError

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NSMAP = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# The context is whatever the caller put on the engine (the registry's CaseContext …): the engine, below
# those packages, cannot name its type.
ConnectorFn = Callable[[Any, dict[str, Any]], dict[str, Any]]

_OPERATOR_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*([.\-][A-Za-z0-9_]+)*$")
# Filled at import time by integration modules (configuration, not mutable business state).
_CONNECTORS: dict[str, ConnectorFn] = {}
# What a connector answers in a designer dry run when the analyst gives no answer (shape of its result).
_SAMPLES: dict[str, dict[str, Any]] = {}


class UnknownOperator(DefinitionError):
    """A service task names an operation no connector provides — a definition error, not bad input."""

    code = "unknown_operator"

    def __init__(self, operator_id: str) -> None:
        super().__init__(f"服务任务使用了未登记的操作 {operator_id}", code=self.code)
        self.operator_id = operator_id


def connector(operator_id: str, *, replace: bool = False,
              sample: dict[str, Any] | None = None) -> Callable[[ConnectorFn], ConnectorFn]:
    """Register ``fn(context, params) -> dict`` as the implementation of ``operator_id``; ``sample`` is the
    answer a dry run uses when the analyst simulates none (so later expressions find the keys they read).

    Registering a different function under a taken id raises, so two integrations cannot silently
    shadow each other; re-registering the same definition (module reload) is harmless.
    """
    if not isinstance(operator_id, str) or not _OPERATOR_ID.match(operator_id):
        raise ValueError(f"invalid connector operator id: {operator_id!r}")

    def register(fn: ConnectorFn) -> ConnectorFn:
        existing = _CONNECTORS.get(operator_id)
        if existing is not None and not replace and _identity(existing) != _identity(fn):
            raise ValueError(f"connector {operator_id!r} is already registered by {_identity(existing)}")
        _CONNECTORS[operator_id] = fn
        if sample is not None:
            _SAMPLES[operator_id] = sample
        return fn

    return register


def dry_run_sample(operator_id: str) -> dict[str, Any]:
    return dict(_SAMPLES.get(operator_id, {}))


def _identity(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def known_operators() -> set[str]:
    """Ids the definition loader accepts in ``serviceTaskOperator/@id``."""
    load_providers()
    return set(_CONNECTORS)


def call_connector(operator_id: str, context: object | None, params: dict[str, Any]) -> dict[str, Any]:
    """Run one connector. Unknown ids raise ``UnknownOperator``; ``DomainError`` passes through untouched."""
    load_providers()
    fn = _CONNECTORS.get(operator_id)
    if fn is None:
        raise UnknownOperator(operator_id)
    result = fn(context, dict(params))
    if not isinstance(result, dict):
        raise TypeError(f"connector {operator_id!r} returned {type(result).__name__}, expected dict")
    return result


def service_operators_in(xml: bytes | str) -> list[tuple[str, str, int]]:
    """``(service task id, operator id, line)`` for every service task, for the loader's existence check.

    Kept here, not in the expression checker, because "does this operator exist" depends on which
    integrations are installed, while expression safety does not.
    """
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(data, parser)
    found: list[tuple[str, str, int]] = []
    for op in root.iterfind(".//spiffworkflow:serviceTaskOperator", NSMAP):
        owner = next((a for a in op.iterancestors() if etree.QName(a).localname != "extensionElements"), None)
        owner_id = owner.get("id", "") if owner is not None else ""
        found.append((owner_id, op.get("id", ""), op.sourceline or 0))
    return found
