"""Zones: the one-way export of the register to the intranet (单向光闸) and the offline return of the
intranet's spatial-review results (光盘摆渡). See docs/ferry.md."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.ferry.cli import ferry

    app.cli.add_command(ferry)
