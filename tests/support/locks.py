"""Watching what the app's transactions lock (issue 18), for tests that run a real load: a network call made
while the calling thread's transaction has written or locked rows (it would make every writer of those rows
wait for the other party), and row locks taken out of the house order, case → unit → counters → audit head
(docs/operations.md "Locks"): two transactions taking the same two rows in opposite orders deadlock.

``LockWatch(engine)`` listens on the engine and wraps ``httpx.Client.send`` (every department call, the TSA and
the outbox go through it, app/integrations/client.py) until ``close()``; ``calls_under_lock`` and
``out_of_order`` list what it saw. Locks are read from the SQL sent: ``UPDATE t``, ``DELETE FROM t`` and a
``SELECT … FROM t … FOR UPDATE/SHARE`` lock rows of ``t``; an INSERT locks only the row it adds.
"""
from __future__ import annotations

import re
import threading
import traceback
from typing import Any

import httpx
from sqlalchemy import Engine, event

from app.db import _WRITES

# The house order: a transaction that holds a lock of a later rank never takes one of an earlier rank.
RANKS = {"reg_case": 0, "realty_unit": 1, "business_number_counter": 2, "certificate_counter": 2, "audit_head": 3}
_LOCKING_SELECT = re.compile(r"\bFOR\s+(UPDATE|NO KEY UPDATE|SHARE|KEY SHARE)\b", re.IGNORECASE)
_TABLE = (re.compile(r"^\s*UPDATE\s+(\w+)", re.IGNORECASE), re.compile(r"^\s*DELETE\s+FROM\s+(\w+)", re.IGNORECASE),
          # an UPDATE in a WITH clause (PostgreSQL: the audit head moved by its entries INSERT, app/security/audit.py)
          re.compile(r"^\s*WITH\s+\w+\s+AS\s+\(\s*UPDATE\s+(\w+)", re.IGNORECASE))
_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)
_LOCKING_OF = re.compile(r"\bFOR\s+(?:UPDATE|NO KEY UPDATE|SHARE|KEY SHARE)\s+OF\s+(\w+)", re.IGNORECASE)
_ORDER = "lockwatch_order"


def locked_table(statement: str) -> str | None:
    """The table whose existing rows ``statement`` locks, or None."""
    for pattern in _TABLE:
        found = pattern.match(statement)
        if found:
            return found.group(1).lower()
    if statement.lstrip()[:6].upper() == "SELECT" and _LOCKING_SELECT.search(statement):
        found = _LOCKING_OF.search(statement) or _FROM.search(statement)  # FOR UPDATE OF t locks rows of t alone
        return found.group(1).lower() if found else None
    return None


class LockWatch:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls_under_lock: list[str] = []
        self.out_of_order: list[str] = []
        self._open: dict[int, set[Any]] = {}  # thread → its connections inside a transaction
        self._lock = threading.Lock()
        self._send = httpx.Client.send
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        event.listen(engine, "before_cursor_execute", self._statement)
        watch, send = self, self._send

        def checked_send(client: httpx.Client, request: httpx.Request, **kw: Any) -> httpx.Response:
            watch._check_call(request)
            return send(client, request, **kw)

        httpx.Client.send = checked_send  # type: ignore[method-assign]

    def close(self) -> None:
        httpx.Client.send = self._send  # type: ignore[method-assign]
        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "commit", self._end)
        event.remove(self.engine, "rollback", self._end)
        event.remove(self.engine, "before_cursor_execute", self._statement)

    def _begin(self, conn: Any) -> None:
        conn.info[_ORDER] = []
        with self._lock:
            self._open.setdefault(threading.get_ident(), set()).add(conn)

    def _end(self, conn: Any) -> None:
        with self._lock:
            self._open.get(threading.get_ident(), set()).discard(conn)

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        table = locked_table(statement)
        if table not in RANKS:
            return
        order: list[str] = conn.info.setdefault(_ORDER, [])
        if table in order:
            return  # a row of a table it already holds: only first locks define the order
        later = [t for t in order if RANKS[t] > RANKS[table]]
        if later:
            self.out_of_order.append(f"{table} locked after {', '.join(later)} ({' → '.join(order)}):\n"
                                     f"{statement[:300]}\n{''.join(traceback.format_stack(limit=25))}")
        order.append(table)

    def _check_call(self, request: httpx.Request) -> None:
        with self._lock:
            held = [c for c in self._open.get(threading.get_ident(), set())
                    if not c.closed and c.in_transaction() and c.info.get(_WRITES)]
        if held:
            tables = sorted({t for c in held for t in c.info.get(_ORDER, [])})
            self.calls_under_lock.append(f"{request.method} {request.url} while holding {tables or 'writes'}:\n"
                                         f"{''.join(traceback.format_stack(limit=25))}")
