"""The register book: units, rights, holders, hash-chained entries and checkpoints; 登簿, 缮证, certificates."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Certificate issuing (signing keys — dev keys under instance/keys unless the settings name files —, font,
    public URL), rendering the certificates a request numbered after its response, the checkpoint log's
    directory; ``flask registry``."""
    from app.registry.certificate_rendering import render_soon
    from app.registry.certificates import IssuingConfig
    from app.registry.cli import registry
    from app.registry.signing import KeyPaths, dev_key_paths

    settings = app.config["SETTINGS"]
    if settings.cert_signing_key_file and settings.cert_signing_cert_file and settings.cert_trust_root_file:
        keys = KeyPaths(key=settings.cert_signing_key_file, cert=settings.cert_signing_cert_file,
                        root=settings.cert_trust_root_file)
    else:
        keys = dev_key_paths(settings.instance_path)
    app.extensions["signing_keys"] = keys
    app.extensions["certificates"] = IssuingConfig(keys=keys, font=settings.cert_font_file,
                                                   verify_base_url=settings.public_base_url)
    app.extensions.setdefault("after_commit", []).append(render_soon)  # 制证 once 缮证's response has gone
    app.extensions["checkpoint_dir"] = settings.checkpoint_dir or settings.instance_path / "checkpoints"
    app.cli.add_command(registry)
