"""A page of register search results costs a fixed number of SQL statements, whatever the number of units on
it (issue 18: it was about five per unit): the units, their current rights, the rights' holders, the
access-log entry."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from app.db import set_tenant_scope
from app.identity.actor import actor_for
from app.identity.models import User
from app.registry import queries

BUDGET = 4  # the units, their current rights, the rights' holders, the access-log entry


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block."""
    statements: list[str] = []
    engine = app.extensions["db"].engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def search(app: Flask, username: str, **terms: Any) -> tuple[int, list[str]]:
    """(units found, statements run) of one search by ``username`` in a fresh session, as a request runs it."""
    db = app.extensions["db"]
    with db.unit_of_work() as session:
        actor = actor_for(session, session.execute(select(User).where(User.username == username)).scalar_one())
    with db.unit_of_work() as session, counted(app) as statements:
        set_tenant_scope(session, actor.tenant_scope)
        found = queries.search_units(session, actor, **terms)
    return found["count"], statements


@pytest.mark.parametrize("username, purpose", [("xh_acceptor", "办理登记"), ("lisi", "交易"), ("zhangsan", "交易")])
def test_a_search_page_costs_the_same_statements_for_one_unit_as_for_many(seeded: Flask, username: str,
                                                                            purpose: str) -> None:
    one, few = search(seeded, username, location="文三路4号", purpose=purpose)
    many, more = search(seeded, username, location="文三路", purpose=purpose)
    assert (one, many) == (1, 28)
    assert len(few) == len(more) <= BUDGET, more
