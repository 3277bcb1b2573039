"""The analysts' and operators' skin under /admin: process designer and business-type configuration;
运维管理 (people, institution accounts, roles and permissions, organisations, tenants), interfaces, logs,
the audit chain check and the statistics dashboards (运维监管).

Views only parse, authorise, call one use case in ``app/catalog`` and render; JSON endpoints under
/admin/api serve the designer's fetch() calls with the page session and its CSRF token.
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app: Flask) -> None:
    """The admin pages (their calendar warning joins every page's context)."""
    from app.admin import (  # noqa: F401  (routes register on import)
        calendar_pages,
        designer_api,
        designer_pages,
        dictionary_pages,
        ferry_pages,
        form_pages,
        import_pages,
        institution_pages,
        interface_pages,
        log_pages,
        migration_pages,
        org_pages,
        people_pages,
        stats_pages,
        type_pages,
    )

    app.register_blueprint(bp)
