"""The case file: what a case is made of — its records (application, parties, materials, tasks, events), its
stored files, who may see it, the parties' consent to its content and its progress events. The use cases that
move a case (app/cases) and the register's (app/registry: 登簿, 缮证, the rules a case is checked by) both read
it, so it sits below them both."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The store of materials and certificates (``app.extensions["storage"]``), encrypted at rest."""
    from app.casefile.storage import LocalStorage
    from app.security.crypto import parse_keyring
    from app.security.file_crypto import FileCipher

    settings = app.config["SETTINGS"]
    app.extensions["storage"] = LocalStorage(settings.storage_dir, FileCipher(parse_keyring(settings.field_keys),
                                                                              settings.field_active_key))
