"""Tenants, users, roles, the actor, tokens, sign-in protection."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Password hashing and the sign-in policy from the settings; ``flask users``."""
    from app.identity.cli import users
    from app.identity.signin import SignInPolicy

    settings = app.config["SETTINGS"]
    app.extensions["password_hash_method"] = settings.password_hash_method
    app.extensions["sign_in_policy"] = SignInPolicy(
        min_length=settings.password_min_length, min_classes=settings.password_min_classes,
        lockout_threshold=settings.lockout_threshold, lockout_minutes=settings.lockout_minutes,
        totp_issuer=settings.totp_issuer)
    app.cli.add_command(users)
