"""Definitions on disk → checked dataclasses → versioned rows; form validation; opinion templates."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """``flask defs``."""
    from app.catalog.cli import defs

    app.cli.add_command(defs)
