"""Department adapters and client, interfaces and their call log, the transactional outbox, the TSA."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """``flask outbox`` (the adapters' connectors are registered by ``app.engine.init_app``)."""
    from app.integrations.cli import outbox

    app.cli.add_command(outbox)
