"""电子档案 pages (/workbench/archives) for the archivist (``archive:read``): search, 调阅 with a stated purpose,
the consulted package shown read-only (metadata, file list, one file's download), and the fixity figures."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, flash, redirect, render_template, request, url_for

from app.archives import fixity, service
from app.errors import DomainError, PermissionDenied
from app.pages import login_required, page_actor, refused
from app.web import db_session
from app.workbench import bp
from app.workbench.common import storage

F = TypeVar("F", bound=Callable[..., Any])


def archivist_required(view: F) -> F:
    """Signed in (else to the login page) and holding ``archive:read`` (else 403)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = page_actor()
        if actor.kind != "staff" or not actor.has(service.PERMISSION):
            raise PermissionDenied("电子档案仅供档案管理人员使用", code="forbidden")
        return view(*args, **kwargs)

    return login_required(wrapper)  # type: ignore[return-value]


def _query() -> service.Query:
    source = request.form if request.method == "POST" else request.args
    return service.Query(business_no=source.get("business_no", "").strip(),
                         unit_code=source.get("unit_code", "").strip(),
                         holder_id_number=source.get("holder_id_number", "").strip())


def render_index(errors: dict[str, list[str]] | None = None, status: int = 200, consulting: str = "") -> Any:
    session, actor = db_session(), page_actor()
    query = _query()
    return render_template("workbench/archives.html", query=query, found=service.search(session, actor, query),
                           figures=fixity.summary(session), errors=errors or {}, consulting=consulting), status


@bp.route("/archives", methods=["GET", "POST"])
@archivist_required
def archive_index() -> Any:
    """GET: latest packages or a search by 业务号 / 单元号; POST: the same with a holder's ID number (kept out of
    the address bar and the logs), matched by its blind index."""
    return render_index()


@bp.post("/archives/<package_id>/consult")
@archivist_required
def archive_consult(package_id: str) -> Any:
    try:
        consultation = service.consult(db_session(), page_actor(), package_id, request.form.get("purpose", ""))
    except DomainError as exc:
        return refused(exc, render_index, consulting=package_id)
    flash("已登记调阅，本次调阅 4 小时内有效", "success")
    return redirect(url_for("workbench.archive_consultation", consultation_id=consultation.id))


@bp.get("/archives/consultations/<consultation_id>")
@archivist_required
def archive_consultation(consultation_id: str) -> Any:
    consultation, package, files = service.open_consultation(db_session(), page_actor(), consultation_id)
    return render_template("workbench/archive_package.html", consultation=consultation, package=package,
                           files=files)


@bp.get("/archives/consultations/<consultation_id>/files/<int:seq>")
@archivist_required
def archive_file(consultation_id: str, seq: int) -> Any:
    meta, content = service.read_document(db_session(), storage(), page_actor(), consultation_id, seq)
    filename = meta.get("filename") or f"document-{seq}"
    return Response(content, mimetype=meta.get("content_type") or "application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}",
                             "Cache-Control": "no-store"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
