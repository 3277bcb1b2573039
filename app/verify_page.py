"""The public verification page the certificate's QR code opens: no login, Chinese, masked summary."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template

from app.registry.certificates import verification
from app.security import throttle
from app.web import db_session

bp = Blueprint("verify_page", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/verify/<code>")
@throttle.verify_certificate
def verify(code: str) -> tuple[str, int]:
    result = verification(db_session(), code)
    if result["status"] == "unknown":
        throttle.count_as_failure()  # guessing codes is limited per address
    return render_template("verify_certificate.html", result=result), 200
