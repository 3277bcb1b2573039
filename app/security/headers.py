"""Security headers on every response, through flask-talisman (not hand-written): a Content-Security-Policy
without inline script (pages load their scripts from /static and pass data in ``<script
type="application/json">`` blocks, which are not executed), framing only by our own pages (frame-ancestors and
X-Frame-Options; the workbench embeds material PDFs), ``nosniff``, a Referrer-Policy that sends no URL (which
may hold a business number) to other sites, and the session cookie's flags (HttpOnly, SameSite=Lax, Secure
when SESSION_COOKIE_SECURE — on by default in production, where the app is served over HTTPS).
"""
from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from flask import Flask, g
from flask_talisman import Talisman
from werkzeug.wrappers import Response

from app.config import Settings

CSP: dict[str, str | list[str]] = {
    "default-src": "'self'",
    "script-src": "'self'",
    # Inline style attributes remain in a few templates and in the diagram/chart libraries; styles cannot run code.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "object-src": "'self'",  # material PDFs shown inline on the workbench
    "frame-ancestors": "'self'",
    "base-uri": "'self'",
    "form-action": "'self'",
}



def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def payment_gateway_origin(settings: Settings) -> str | None:
    """The portal's pay form answers with a redirect to the gateway's cashier page; browsers apply
    ``form-action`` to that redirect too, so the gateway's origin (INTERFACE_PAYMENT_URL, else the departments'
    base URL) is the one other place a form may lead."""
    return _origin(os.environ.get("INTERFACE_PAYMENT_URL") or settings.integrations_base_url)


def init_security_headers(app: Flask, settings: Settings) -> None:
    gateway = payment_gateway_origin(settings)
    csp = {**CSP, "form-action": ["'self'", gateway] if gateway else "'self'"}
    # One Talisman per app: ``init_app`` keeps its options on the Talisman object, so a module-level one shared by
    # two apps in a process (the platforms of a federation test, a worker's second app) gave the first app the
    # last app's policy — its pay form's redirect to the gateway then blocked by another gateway's form-action.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=False,  # TLS ends at the reverse proxy; HSTS is sent on HTTPS requests
        content_security_policy=csp,
        frame_options="SAMEORIGIN",
        referrer_policy="same-origin",
        permissions_policy={"camera": "(self)", "microphone": "()", "geolocation": "()", "browsing-topics": "()"},
        session_cookie_secure=settings.session_cookie_secure,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
    )
    # Runs after talisman's header hook (Flask calls after-request functions last-registered first).
    app.after_request_funcs.setdefault(None, []).insert(0, _widen_form_action)


def allow_form_action(url: str) -> None:
    """Let this response's form post to ``url``'s origin too: link navigation's auto-submitted form that takes the
    browser to another platform's ``/federation/arrive`` (docs/federation.md). Only for that one response."""
    origin = _origin(url)
    if origin:
        g.extra_form_actions = [*g.get("extra_form_actions", []), origin]


def _widen_form_action(response: Response) -> Response:
    extra = g.get("extra_form_actions")
    policy = response.headers.get("Content-Security-Policy")
    if extra and policy:
        response.headers["Content-Security-Policy"] = re.sub(
            r"form-action ([^;]*)", lambda m: "form-action " + " ".join([m.group(1), *extra]), policy, count=1)
    return response
