"""Federation between platforms (national ↔ province ↔ city): mutual Ed25519 keys, signed requests, replay
protection and cross-level identity assertions. See docs/federation.md."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.federation.cli import federation
    from app.federation.reports import route
    from app.integrations.client import register_peer_router

    app.cli.add_command(federation)
    register_peer_router(route)  # the outbox's province / national subscribers are peers, called signed
