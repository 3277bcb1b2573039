"""Application factory: ``create_app(config=None)`` — the composition root. Each package wires what it owns
(its settings on ``app.extensions``, blueprints, ``flask`` commands, template filters) in its own
``init_app(app)``; here they are called in layer order, from the database up to the entry points."""
from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from app.config import Settings


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings.from_env()
    for key, value in overrides.items():
        setattr(settings, key, value)
    from app.web import PlatformFlask

    app = PlatformFlask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    if isinstance(app.json, DefaultJSONProvider):  # Flask's own provider, the one that knows ensure_ascii
        app.json.ensure_ascii = False
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    from app import (
        account_security,  # noqa: F401  (its routes join the sign-in blueprint before pages registers it)
        admin,
        api,
        archives,
        casefile,
        cases,
        catalog,
        cli,
        db,
        engine,
        error_handlers,
        federation,
        federation_forward_views,
        federation_pages,
        federation_views,
        ferry,
        form_render,
        home,
        identity,
        integrations,
        jobs,
        models,  # noqa: F401  (every mapper registered)
        pages,
        portal,
        registry,
        security,
        supervision,
        verify_page,
        web,
        workbench,
    )

    db.init_app(app)  # the database
    security.init_app(app)  # field-encryption keys
    engine.init_app(app)  # connectors and expression functions
    identity.init_app(app)  # password hashing, sign-in policy; flask users
    integrations.init_app(app)  # flask outbox
    catalog.init_app(app)  # flask defs
    casefile.init_app(app)  # stored files
    registry.init_app(app)  # certificate keys, checkpoint log; flask registry
    cases.init_app(app)  # 税务 and payment callbacks; flask tax-waits, verifications
    supervision.init_app(app)  # flask logs
    archives.init_app(app)  # flask archives
    federation.init_app(app)  # flask federation
    ferry.init_app(app)  # flask ferry
    web.init_app(app)  # request plumbing: input guard, one transaction per request, headers, rate limits
    error_handlers.init_app(app)
    pages.init_app(app)  # sign-in pages, CSRF, layout context, Beijing-time filters
    form_render.init_app(app)
    portal.init_app(app)  # the skins
    verify_page.init_app(app)
    federation_views.init_app(app)  # the peers' endpoints
    federation_pages.init_app(app)  # the national entrance (PLATFORM_LEVEL=national)
    federation_forward_views.init_app(app)  # applications across levels, reports from below; /national pages
    workbench.init_app(app)
    admin.init_app(app)
    api.init_app(app)
    home.init_app(app)
    jobs.init_app(app)  # the job runner; the scheduler when enabled
    cli.init_app(app)  # flask setup
    return app
