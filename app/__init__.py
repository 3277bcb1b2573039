"""Application factory: ``create_app(config=None)`` wires settings, database, keys, blueprints and CLI."""
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
        API_TITLE="互联网+不动产登记 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH=None,
    )
    if isinstance(app.json, DefaultJSONProvider):  # Flask's own provider, the one that knows ensure_ascii
        app.json.ensure_ascii = False
    if settings.trusted_proxies:  # behind a load balancer: the client address (rate limits) from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask documents wrapping the WSGI callable this way; its typing declares wsgi_app a method
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    from app import models  # noqa: F401  (every mapper registered)
    from app.casefile.storage import LocalStorage
    from app.db import Database
    from app.engine.providers import load_providers
    from app.security.crypto import BlindIndex, FieldCipher, parse_keyring
    from app.security.fields import Keyring, configure

    load_providers()  # every connector and expression function (app/engine/providers.py)

    configure(Keyring(
        cipher=FieldCipher(keys=parse_keyring(settings.field_keys), active_key_id=settings.field_active_key,
                           algorithm=settings.field_algorithm),
        blind_index=BlindIndex(__import__("base64").b64decode(settings.blind_index_key)),
    ))
    from app.identity.service import configure_password_hashing

    configure_password_hashing(settings.password_hash_method)
    from app.identity.signin import SignInPolicy, configure_sign_in

    configure_sign_in(SignInPolicy(min_length=settings.password_min_length, min_classes=settings.password_min_classes,
                                   lockout_threshold=settings.lockout_threshold,
                                   lockout_minutes=settings.lockout_minutes, totp_issuer=settings.totp_issuer))
    app.extensions["db"] = Database(settings.database_url)
    from app.security.file_crypto import FileCipher

    app.extensions["storage"] = LocalStorage(settings.storage_dir, FileCipher(parse_keyring(settings.field_keys),
                                                                              settings.field_active_key))
    _configure_certificates(settings)
    _configure_integrations(settings)

    from app.error_handlers import init_error_handlers
    from app.web import init_request_handling

    init_request_handling(app)
    init_error_handlers(app)
    from app.security.headers import init_security_headers
    from app.security.throttle import init_throttling

    init_security_headers(app, settings)
    init_throttling(app, settings)

    from app import account_security  # noqa: F401  (its routes join the accounts blueprint before it is registered)
    from app.pages import init_pages

    init_pages(app)

    from app.home import bp as home_bp

    app.register_blueprint(home_bp)

    from app.portal import bp as portal_bp

    app.register_blueprint(portal_bp)

    from app.verify_page import bp as verify_bp

    app.register_blueprint(verify_bp)

    from app.form_render import init_form_rendering

    init_form_rendering(app)

    from app import clock

    app.add_template_filter(clock.local_time, "local_time")  # every skin shows Beijing time
    app.add_template_filter(clock.local_date, "local_date")

    from app.workbench import init_workbench

    init_workbench(app)

    from app.admin import init_admin

    init_admin(app)

    from app.api import init_api

    init_api(app)

    from app.cli import register_cli

    register_cli(app)
    if settings.scheduler_enabled:
        from app.jobs import start_scheduler

        start_scheduler(app)
    return app


def _configure_certificates(settings: Settings) -> None:
    """Signing keys (dev keys under instance/keys unless the settings name files), font and public URL."""
    from app.registry import certificates, signing

    if settings.cert_signing_key_file and settings.cert_signing_cert_file and settings.cert_trust_root_file:
        keys = signing.KeyPaths(key=settings.cert_signing_key_file, cert=settings.cert_signing_cert_file,
                                root=settings.cert_trust_root_file)
    else:
        keys = signing.dev_key_paths(settings.instance_path)
    certificates.configure(certificates.IssuingConfig(keys=keys, font=settings.cert_font_file,
                                                      verify_base_url=settings.public_base_url))
    from app.registry import checkpoints

    checkpoints.configure(settings.checkpoint_dir or settings.instance_path / "checkpoints")


def _configure_integrations(settings: Settings) -> None:
    """Process configuration of the integrations (their connectors are registered by ``load_providers``)."""
    from app.cases.sharing import tax

    tax.configure(tax.TaxConfig(callback_url=settings.callback_base_url.rstrip("/") + "/api/v1/callbacks/tax",
                                secret=settings.tax_callback_secret,
                                wait_working_days=settings.tax_wait_working_days))
    from app.cases import payments

    payments.configure(payments.PaymentConfig(
        notify_url=settings.callback_base_url.rstrip("/") + "/api/v1/callbacks/payment",
        secret=settings.payment_callback_secret,
        platform_url=settings.public_base_url))
