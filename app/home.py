"""The landing page: what this server offers until the portal and workbench pages arrive."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.catalog.service import list_business_types
from app.web import db_session

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    from app.pages import page_actor

    page_actor(required=False)  # the header shows who is signed in
    types = [pv.definition for _, pv in list_business_types(db_session())]
    return render_template("home.html", types=types)


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    db_session().execute(__import__("sqlalchemy").text("SELECT 1"))
    return {"status": "ok"}
