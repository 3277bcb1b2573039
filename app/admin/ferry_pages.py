"""空间审核结果回传: the operators upload the intranet's signed return file (光盘摆渡) here instead of running
``flask ferry return-import``; the checks and their refusals are the same (app/ferry/returns.py)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst
from app.ferry.returns import ReturnRefused, import_return_upload, received_returns
from app.pages import login_required, refused
from app.web import db_session, settings

MAX_RETURN_BYTES = 5 * 1024 * 1024


def _page(errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    return render_template("admin/ops/ferry_returns.html", received=received_returns(db_session()),
                           configured=bool(settings().ferry_intranet_public_key), errors=errors or {}), status


@bp.get("/ferry/returns")
@login_required
def ferry_returns() -> Any:
    analyst("interface:manage")
    return _page()


@bp.post("/ferry/returns")
@login_required
def ferry_return_upload() -> Any:
    actor = analyst("interface:manage")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page({"file": ["请选择内网回传文件（return-*.json）"]}, 422)
    data = upload.read(MAX_RETURN_BYTES + 1)
    if len(data) > MAX_RETURN_BYTES:
        return _page({"file": ["回传文件过大"]}, 422)
    try:
        attached = import_return_upload(db_session(), actor.user_id, data, settings().ferry_intranet_public_key)
    except ReturnRefused as exc:
        return refused(exc, _page, errors={"file": [exc.message]})
    flash(f"已导入回传文件：{len(attached)} 条空间审核结果已附入案件", "success")
    return redirect(url_for("admin.ferry_returns"))
