"""A time-stamping authority (RFC 3161) for development and tests: pyHanko's ``DummyTimeStamper`` (RSA) with
a throw-away TSA certificate made when the simulator starts, served over HTTP like a real TSA
(``application/timestamp-query`` in, ``application/timestamp-reply`` out). ``GET /tsa/cert`` gives its
certificate, the trust root a verifier in development may pass as ``--tsa-root``."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from flask import Blueprint, Response, current_app, jsonify, request
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from simulator.common import state

bp = Blueprint("sim_tsa", __name__)


@cache
def _tsa() -> tuple[DummyTimeStamper, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "模拟时间戳服务（开发环境）")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    tsa_cert = asn1_x509.Certificate.load(der)
    tsa_key = keys.PrivateKeyInfo.load(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, certs_to_embed=[tsa_cert]), \
        cert.public_bytes(serialization.Encoding.PEM)


@bp.post("/tsa")
def timestamp() -> Any:
    if request.headers.get("Authorization", "") != f"Bearer {current_app.config['SIM'].api_key}":
        return jsonify(error="unauthorized"), 401
    if state().behaviour_of("tsa").mode == "fail":
        return jsonify(error="unavailable", message="时间戳服务故障（模拟）"), 503
    try:
        req = tsp.TimeStampReq.load(request.get_data())
        req.native  # noqa: B018 — parse fully, so a malformed request is refused here
    except ValueError:
        return jsonify(error="bad_request"), 400
    stamper, _pem = _tsa()
    return Response(stamper.request_tsa_response(req).dump(), mimetype="application/timestamp-reply")


@bp.get("/tsa/cert")
def tsa_cert() -> Any:
    return Response(_tsa()[1], mimetype="application/x-pem-file")
