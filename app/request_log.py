"""The request log (the WSGI server's access log; not the ``access_log`` table of personal-data reads,
app/security/audit.py): one JSON line per HTTP request without personal data, written by gunicorn
(app/serving.py) from what the app tagged the request with.

A URL may carry personal data — an ID number or phone in a query string (登记资料查询, 进度查询), a business or
certificate number in a path — and so may a client's address or a user name. A line therefore holds only the
method, the route's template (``/my/applications/<case_id>``, never the values filled in), the status, the
duration, the size and a request id; a path no route matched keeps only its segments made of letters (any
other segment becomes ``*``). The request id comes from a load balancer's ``X-Request-ID`` when that is a
UUID (nothing else: a free-form header could carry anything), else it is made here, and the response carries
it back so one request can be followed from the balancer to the exception log."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, request

REQUEST_ID = "bdcdj.request_id"  # keys of the WSGI environ the server's logger reads
ROUTE = "bdcdj.route"
HEADER = "X-Request-ID"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PLAIN_SEGMENT = re.compile(r"[A-Za-z_.-]*")


def masked_path(path: str) -> str:
    """A path no route matched, with every segment that is not plain letters replaced by ``*``."""
    return "/".join(s if _PLAIN_SEGMENT.fullmatch(s) else "*" for s in path.split("/"))


def access_line(environ: Mapping[str, Any], *, status: int, duration_s: float, size: int | None,
                at: datetime | None = None) -> str:
    """The JSON line of one request (``environ``: the WSGI environ the app tagged)."""
    route = environ.get(ROUTE)
    return json.dumps({
        "at": (at or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        "method": environ.get("REQUEST_METHOD", ""),
        "path": route or masked_path(environ.get("PATH_INFO", "")),
        "status": status,
        "ms": round(duration_s * 1000, 1),
        "bytes": size,
        "request_id": environ.get(REQUEST_ID),
    }, ensure_ascii=False)


def init_app(app: Flask) -> None:
    """Tag each request (first, before any hook may refuse it) and answer with its id."""

    @app.before_request
    def _tag() -> None:
        incoming = request.headers.get(HEADER, "")
        request.environ[REQUEST_ID] = incoming.lower() if _UUID.fullmatch(incoming) else str(uuid.uuid4())
        request.environ[ROUTE] = request.url_rule.rule if request.url_rule is not None else None

    @app.after_request
    def _answer_with_id(response: Response) -> Response:
        request_id = request.environ.get(REQUEST_ID)
        if request_id:
            response.headers[HEADER] = request_id
        return response
