"""Replaying the register entries against the current-state tables.

Rules, queries and the portal read the current rights (``realty_right`` with status current) and their
holders' blind indexes (``right_holder``), not the entries. So a hash chain that holds proves nothing about
them: copying a stranger's blind index into ``right_holder`` made her the holder of a flat. Every entry says
which right it created (type, holders' blind indexes in order) and which it ended; replaying a unit's entries
gives the rights that must be current and who must hold them, and any difference names the unit.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.registry.models import RegisterEntry, Right, RightHolder
from app.vocabulary import RightStatus

if TYPE_CHECKING:
    from app.registry.verify import ChainBreak

State = dict[str, tuple[str, list[str | None]]]  # right id → (right type, holders' blind indexes by position)


def replay(entries: list[RegisterEntry]) -> State:
    """The current rights a unit's entries leave, in order."""
    current: State = {}
    for entry in entries:
        change = entry.change or {}
        for right_id in change.get("ended") or []:
            current.pop(right_id, None)
        created = change.get("created")
        if created:
            current[created["right_id"]] = (created["type"], list(created.get("holders") or []))
    return current


def recorded_state(session: Session) -> dict[str, State]:
    """The current rights and holders as the tables hold them, per unit id."""
    rights = session.execute(select(Right.id, Right.unit_id, Right.right_type)
                             .where(Right.status == RightStatus.CURRENT)
                             .execution_options(all_tenants=True)).all()
    holders: dict[str, list[str | None]] = {}
    for right_id, bidx in session.execute(select(RightHolder.right_id, RightHolder.id_number_bidx)
                                          .order_by(RightHolder.right_id, RightHolder.position)
                                          .execution_options(all_tenants=True)):
        holders.setdefault(right_id, []).append(bidx)
    state: dict[str, State] = {}
    for right_id, unit_id, right_type in rights:
        state.setdefault(unit_id, {})[right_id] = (right_type, holders.get(right_id, []))
    return state


def _differences(expected: State, actual: State) -> list[str]:
    found = []
    for right_id in sorted(set(expected) | set(actual)):
        if right_id not in actual:
            found.append(f"记载的现势权利 {right_id} 不在权利表中（被删除或改为历史）")
        elif right_id not in expected:
            found.append(f"权利表中的现势权利 {right_id} 没有登簿记载")
        elif expected[right_id][0] != actual[right_id][0]:
            found.append(f"权利 {right_id} 的类型与记载不符")
        elif expected[right_id][1] != actual[right_id][1]:
            found.append(f"权利 {right_id} 的权利人与记载不符（权利人表被改动）")
    return found


def state_breaks(session: Session, units: list[Any], by_unit: dict[str, list[RegisterEntry]]) -> list[ChainBreak]:
    from app.registry.verify import ChainBreak

    actual = recorded_state(session)
    breaks = []
    for unit_id, unit_code in units:
        entries = by_unit.get(unit_id, [])
        for reason in _differences(replay(entries), actual.get(unit_id, {})):
            breaks.append(ChainBreak(unit_code, entries[-1].seq if entries else 0, reason))
    return breaks
