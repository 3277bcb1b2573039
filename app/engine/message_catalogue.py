"""The messages the platform really delivers to a waiting workflow, and who sends each.

Why a catalogue: a diagram may wait for a message (a receive task, a message catch event or a boundary
message event), but a wait only ends when some code calls ``WorkflowRuntime.deliver_message`` with that
name. A wait on any other name would hold a citizen's case forever, so the definition checks accept a
message wait only for a name listed here, the designer's palette offers exactly these names, and the dry
run delivers only these. Add an entry in the same change that adds the code delivering it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InboundMessage:
    """A message name a diagram may wait for, with the sender an analyst recognises."""

    name: str  # the bpmn:message name attribute
    title: str  # what the designer shows
    sender: str  # the department or integration that sends it
    delivered_by: str  # the code path that calls deliver_message (for maintainers)
    payload: tuple[str, ...] = ()  # the fields the message adds to the case's workflow data


TAX_PAID = InboundMessage(
    name="tax_paid", title="完税信息", sender="税务部门",
    delivered_by="app/cases/sharing/tax.py record_tax_paid (税务回调 / 完税查询)", payload=("tax_voucher_no",))

MESSAGES: dict[str, InboundMessage] = {m.name: m for m in (TAX_PAID,)}


def is_deliverable(name: str | None) -> bool:
    """True when some integration or use case of the platform sends a message of this name."""
    return bool(name) and name in MESSAGES


def describe_known() -> str:
    """The catalogue in one Chinese phrase, for error messages (``tax_paid（完税信息，税务部门）``)."""
    return "、".join(f"{m.name}（{m.title}，{m.sender}）" for m in MESSAGES.values()) or "无"


def palette_entries() -> list[dict[str, Any]]:
    """The catalogue as the designer's palette lists it."""
    return [{"name": m.name, "title": m.title, "sender": m.sender, "payload": list(m.payload)}
            for m in MESSAGES.values()]
