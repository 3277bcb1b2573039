"""Field encryption and blind index, masking, the hash-chained audit log, the access log, rate limits,
security headers."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The field-encryption keyring from the settings (``app.extensions["keyring"]``; also the process default
    for code that touches encrypted rows with no app context active, app/security/fields.py)."""
    import base64

    from app.security.crypto import BlindIndex, FieldCipher, parse_keyring
    from app.security.fields import Keyring, configure

    settings = app.config["SETTINGS"]
    keyring = Keyring(cipher=FieldCipher(keys=parse_keyring(settings.field_keys),
                                         active_key_id=settings.field_active_key, algorithm=settings.field_algorithm),
                      blind_index=BlindIndex(base64.b64decode(settings.blind_index_key)))
    app.extensions["keyring"] = keyring
    configure(keyring)
