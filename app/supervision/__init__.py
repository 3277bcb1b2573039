"""Supervision (综合监管): the exception log, querying and tracing the platform's logs, exporting them,
retention, and the statistics dashboards. Reads what other rooms write; writes only its own logs."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """``flask logs``."""
    from app.supervision.cli import logs

    app.cli.add_command(logs)
