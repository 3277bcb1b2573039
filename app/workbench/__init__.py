"""The clerk workbench (/workbench): inbox, case handling, stage screens and window intake.

A skin like the API: each view parses the request, calls one use case in app/cases or app/registry, and
renders a server-side Jinja2 page (works without JavaScript; workbench.js adds keyboard shortcuts and
the opinion-template picker). Sign-in, CSRF and HTML error pages come from app/pages.py.
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("workbench", __name__, url_prefix="/workbench")


def init_app(app: Flask) -> None:
    """The workbench's pages and its ``district`` filter."""
    from app.workbench import (  # noqa: F401
        archive_views,
        case_views,
        consent_views,
        inbox_views,
        stage_views,
        window_views,
    )
    from app.workbench.common import district_name

    app.add_template_filter(district_name, "district")
    app.register_blueprint(bp)
