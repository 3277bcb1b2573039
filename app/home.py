"""The landing page (the portal's front page) and the health check."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template

from app.db import ping
from app.web import db_session

bp = Blueprint("home", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/")
def index() -> str:
    from app.pages import page_actor
    from app.portal import landing_context

    page_actor(required=False)  # the header shows who is signed in
    return render_template("home.html", **landing_context())


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    ping(db_session())
    return {"status": "ok"}
