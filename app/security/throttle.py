"""Throttling by client address through flask-limiter (a maintained library): failed sign-ins, failed 线下查询
(/track) and unknown certificate codes (/verify) are counted per address, with tiers (per minute, hour, day) so
the wait grows the longer an address keeps guessing. Only failures count (``deduct_when``), so people who get it
right are never slowed, however many share an office's address.

Storage: ``RATELIMIT_STORAGE_URI`` — process memory in development (``make run`` needs nothing else), Redis
(``redis://…``) or another shared store in production, which refuses memory (app.config). The per-account side
(growing delays per account and address, SMS codes per phone) is kept in the database by app.security.rate_limit.
"""
from __future__ import annotations

from flask import Flask, Response, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.config import Settings

# Failed attempts allowed per client address.
SIGN_IN = "5 per minute; 20 per hour; 100 per day"
TRACK = "5 per minute; 20 per hour; 50 per day"
VERIFY_CERTIFICATE = "10 per minute; 60 per hour; 300 per day"

limiter = Limiter(key_func=get_remote_address)


def failed(response: Response) -> bool:
    """Count an attempt that was refused or found nothing (a guess), never a successful one."""
    return response.status_code in (401, 403, 404, 422, 429) or bool(g.get("throttle_failure"))


def count_as_failure() -> None:
    """This request found nothing although it answers 200 (e.g. "未找到" for a certificate code)."""
    g.throttle_failure = True


# One counter per purpose, shared by the page and the API that serve it.
sign_in = limiter.shared_limit(SIGN_IN, scope="sign-in", methods=["POST"], deduct_when=failed)
track = limiter.shared_limit(TRACK, scope="track", methods=["POST"], deduct_when=failed)
verify_certificate = limiter.shared_limit(VERIFY_CERTIFICATE, scope="verify-certificate", deduct_when=failed)


def init_throttling(app: Flask, settings: Settings) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage_uri
    app.config["RATELIMIT_HEADERS_ENABLED"] = True  # Retry-After tells clients how long to wait
    limiter.init_app(app)
