"""Putting a shared test app back as it was built: the suite builds one app per pytest-xdist worker
(tests/conftest.py ``worker_app``) and each test may change its settings, config, extensions, stored files and
throttling counters. What a test cannot take back (a route added after the first request) needs ``own_app``."""
from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask


@dataclass
class _BuiltState:
    config: dict[str, Any]
    settings: dict[str, Any]
    extensions: dict[str, Any]


_built: dict[int, _BuiltState] = {}


def _state_of(app: Flask) -> _BuiltState:
    if id(app) not in _built:  # the first test starts on the app as create_app left it
        _built[id(app)] = _BuiltState(config=dict(app.config), settings=copy.deepcopy(vars(app.config["SETTINGS"])),
                                      extensions=dict(app.extensions))
    return _built[id(app)]


def _empty(directory: Path | None) -> None:
    if directory is not None and directory.exists():
        shutil.rmtree(directory)


def restore(app: Flask) -> None:
    """Config, settings and extensions as built; no stored file, no checkpoint, no throttling count, nothing
    remembered about the database (its rows were reset under the app: the calendar, the audit head)."""
    from app.db import forget_engine_cache
    from app.security.throttle import limiter

    built = _state_of(app)
    app.config.clear()
    app.config.update(built.config)
    settings = app.config["SETTINGS"]
    vars(settings).clear()
    vars(settings).update(copy.deepcopy(built.settings))
    app.extensions.clear()
    app.extensions.update(built.extensions)
    forget_engine_cache(app.extensions["db"].engine)
    _empty(settings.storage_dir)
    _empty(app.extensions.get("checkpoint_dir"))
    with app.app_context():
        limiter.reset()


@contextmanager
def pristine(app: Flask) -> Iterator[Flask]:
    restore(app)
    try:
        yield app
    finally:
        restore(app)
