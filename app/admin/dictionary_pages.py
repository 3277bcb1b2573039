"""Dictionary pages: list/search, create, edit, delete (refused with the referrers named) — plain forms."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.common import analyst, definitions_root
from app.catalog import dictionaries
from app.errors import Conflict, ValidationFailed
from app.pages import login_required, refused
from app.registry.dictionary_uses import book_uses
from app.web import db_session

FIELDS = ("code", "name", "parent_code", "level", "effective_from", "effective_to", "text")


@bp.get("/dictionaries")
@login_required
def dictionary_index() -> str:
    analyst("dict:manage")
    return render_template("admin/dict_index.html", kinds=dictionaries.KINDS.values(),
                           counts=dictionaries.counts(db_session()))


@bp.post("/dictionaries/seed")
@login_required
def dictionary_seed() -> Any:
    analyst("dict:manage")
    added = dictionaries.seed_dictionaries(db_session(), definitions_root())
    flash("已从 dictionaries/ 补充：" + ("、".join(f"{dictionaries.KINDS[k].label} {n} 项" for k, n in added.items())
                                          or "无缺失项"), "success")
    return redirect(url_for("admin.dictionary_index"))


@bp.get("/dictionaries/<kind>")
@login_required
def dictionary_list(kind: str) -> str:
    analyst("dict:manage")
    q = (request.args.get("q") or "").strip()[:50]
    return render_template("admin/dict_list.html", kind=dictionaries.kind_of(kind), q=q,
                           entries=dictionaries.entries(db_session(), kind, q))


def _form(kind: str, values: dict[str, Any], errors: dict[str, list[str]], creating: bool, status: int = 200) -> Any:
    return render_template("admin/dict_form.html", kind=dictionaries.kind_of(kind), values=values, errors=errors,
                           creating=creating), status


@bp.route("/dictionaries/<kind>/new", methods=["GET", "POST"])
@login_required
def dictionary_new(kind: str) -> Any:
    actor = analyst("dict:manage")
    if request.method == "GET":
        return _form(kind, {}, {}, creating=True)
    values = {f: request.form.get(f, "") for f in FIELDS}
    try:
        entry = dictionaries.create_entry(db_session(), actor, kind, values)
    except ValidationFailed as exc:
        return refused(exc, _form, kind, values, creating=True, errors=exc.errors)
    flash(f"已新增：{entry.code} {entry.name}", "success")
    return redirect(url_for("admin.dictionary_list", kind=kind, q=entry.code))


@bp.route("/dictionaries/<kind>/<code>", methods=["GET", "POST"])
@login_required
def dictionary_edit(kind: str, code: str) -> Any:
    actor = analyst("dict:manage")
    entry = dictionaries.get_entry(db_session(), kind, code)
    if request.method == "GET":
        return _form(kind, {f: getattr(entry, f) or "" for f in FIELDS}, {}, creating=False)
    values = {f: request.form.get(f, "") for f in FIELDS}
    try:
        dictionaries.update_entry(db_session(), actor, kind, code, values)
    except ValidationFailed as exc:
        return refused(exc, _form, kind, {**values, "code": code}, creating=False, errors=exc.errors)
    flash(f"已保存：{code}", "success")
    return redirect(url_for("admin.dictionary_list", kind=kind, q=code))


@bp.post("/dictionaries/<kind>/<code>/delete")
@login_required
def dictionary_delete(kind: str, code: str) -> Any:
    actor = analyst("dict:manage")
    try:
        dictionaries.delete_entry(db_session(), actor, kind, code, book_uses)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.dictionary_list", kind=kind, q=code))
    flash(f"已删除：{code}", "success")
    return redirect(url_for("admin.dictionary_list", kind=kind))
