"""Capture of unhandled exceptions into ``exception_log``, called from the Flask error handler.

What is kept is chosen so the row never holds personal data: the exception's class, the request's method,
path (no query string) and endpoint, the signed-in user's id, a business number when the URL carries one,
and the code frames (file, line, function — never their local values or the exception message, which may
quote a name or an ID number from the request).

The request's own transaction is about to roll back, so the row is written in a short transaction of its
own — after the request's session has let go of the database (on SQLite, a second writer would otherwise
wait for the first one's lock).
"""
from __future__ import annotations

import hashlib
import logging
import re
import traceback
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.supervision.models import ExceptionLog

log = logging.getLogger(__name__)
BUSINESS_NO = re.compile(r"^20\d{16}$")  # YYYY + office + class + serial (app.cases.numbers)
ROOT = Path(__file__).resolve().parents[2]
MAX_FRAMES = 20


def frames_of(exc: BaseException) -> list[dict[str, Any]]:
    """The innermost frames of the traceback as (file relative to the project, line, function)."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__)[-MAX_FRAMES:]:
        path = Path(frame.filename)
        try:
            name = str(path.resolve().relative_to(ROOT))
        except ValueError:
            name = "/".join(path.parts[-3:])
        frames.append({"file": name, "line": frame.lineno, "function": frame.name})
    return frames


def business_no_in(values: list[Any]) -> str | None:
    return next((str(v) for v in values if isinstance(v, str) and BUSINESS_NO.match(v)), None)


def record_exception(engine: Engine, exc: BaseException, *, method: str | None, path: str | None,
                     endpoint: str | None, actor_id: str | None, tenant_id: str | None,
                     business_no: str | None) -> ExceptionLog | None:
    """Write one exception row in its own transaction; a failure here is logged, never raised (the
    user still gets the error page)."""
    frames = frames_of(exc)
    exc_type = f"{type(exc).__module__}.{type(exc).__qualname__}"[:128]
    fingerprint = hashlib.sha256(
        (exc_type + "|" + "|".join(f"{f['file']}:{f['function']}" for f in frames)).encode()).hexdigest()
    row = ExceptionLog(exc_type=exc_type, method=method, path=(path or "")[:300] or None,
                       endpoint=(endpoint or "")[:128] or None, actor_id=actor_id, tenant_id=tenant_id,
                       business_no=business_no, fingerprint=fingerprint, frames=frames)
    try:
        with Session(bind=engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
    except Exception:  # the log of the log must not hide the original error
        log.exception("could not record the exception")
        return None
    return row
