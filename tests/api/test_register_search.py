"""The register search by 坐落 (issue 18): a page of results costs a fixed number of SQL statements whatever the
number of units on it (it was about five per unit): the units, their current rights, the rights' holders, the
access-log entry; and every term finds exactly the units whose 坐落 contains it, also the 2-character terms
that PostgreSQL looks up in the doubled address (``models.doubled_location``)."""
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
from app.registry.models import RealtyUnit

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


@pytest.mark.parametrize("term", ["文三", "11", "号1", "1号", "文三路1", "示范花园"])
def test_a_term_finds_exactly_the_units_whose_location_contains_it(seeded: Flask, term: str) -> None:
    with seeded.extensions["db"].unit_of_work() as session:
        locations = dict(session.execute(select(RealtyUnit.unit_code, RealtyUnit.location)).all())
        lisi = actor_for(session, session.execute(select(User).where(User.username == "lisi")).scalar_one())
        found = queries.search_units(session, lisi, location=term, purpose="交易")
    expected = sorted(code for code, location in locations.items() if term in location)
    assert 0 < len(expected) <= queries.SEARCH_LIMIT
    assert [u["unit_code"] for u in found["items"]] == expected
