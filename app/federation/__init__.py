"""Federation between platforms (national ↔ province ↔ city): mutual Ed25519 keys, signed requests, replay
protection and cross-level identity assertions. See docs/federation.md."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.federation.cli import federation

    app.cli.add_command(federation)
