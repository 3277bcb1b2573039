"""The workflow runtime over SpiffWorkflow: specs stored once per version, safe expressions, connectors."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Every connector and expression function (app/engine/providers.py); loaded once per process."""
    from app.engine.providers import load_providers

    load_providers()
