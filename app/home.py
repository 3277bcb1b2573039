"""The landing page (the portal's front page) and the probes of a load balancer or orchestrator: liveness
(``/healthz``) and readiness (``/readyz``, app/supervision/readiness.py). The probes are public, read no
input, write nothing and are never throttled (a balancer polls them every few seconds from one address)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for

from app.security.throttle import limiter
from app.web import db_session

bp = Blueprint("home", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/")
def index() -> Any:
    from app.pages import page_actor
    from app.portal import landing_context

    if current_app.config["SETTINGS"].platform_level == "national":  # its front page is the entrance
        return redirect(url_for("national_entrance.index"))
    page_actor(required=False)  # the header shows who is signed in
    return render_template("home.html", **landing_context())


@bp.get("/healthz")
@limiter.exempt
def healthz() -> dict[str, str]:
    """The process answers. Nothing else is asked: restarting workers cures no database outage."""
    return {"status": "ok"}


@bp.get("/readyz")
@limiter.exempt
def readyz() -> tuple[dict[str, Any], int]:
    """200 when this process can serve; 503 naming the failed checks when the balancer should send it nothing."""
    from app.supervision.readiness import check_readiness  # alembic and pyhanko: loaded by the first probe only

    readiness = check_readiness(db_session(), signing_keys=current_app.extensions["signing_keys"],
                                storage=current_app.extensions["storage"])
    return readiness.as_json(), 200 if readiness.ready else 503
