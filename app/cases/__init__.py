"""The use cases that move a case: intake, handling, inbox, materials, payments; data sharing in ``sharing/``."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Where 税务 and the payment gateway call back, their secrets, the 完税 wait; ``flask tax-waits`` and
    ``flask verifications``."""
    from app.cases.cli import tax_waits_command, verifications
    from app.cases.payments import PaymentConfig
    from app.cases.sharing.tax import TaxConfig

    settings = app.config["SETTINGS"]
    callbacks = settings.callback_base_url.rstrip("/") + "/api/v1/callbacks"
    app.extensions["tax"] = TaxConfig(callback_url=callbacks + "/tax", secret=settings.tax_callback_secret,
                                      wait_working_days=settings.tax_wait_working_days)
    app.extensions["payments"] = PaymentConfig(notify_url=callbacks + "/payment",
                                               secret=settings.payment_callback_secret,
                                               platform_url=settings.public_base_url)
    from app.cases.application_form import make_soon

    app.extensions.setdefault("after_commit", []).append(make_soon)  # the 申请书 once the last signature's
    app.cli.add_command(tax_waits_command)
    app.cli.add_command(verifications)
