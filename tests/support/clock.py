"""A stopped clock for tests (freezegun) that is safe for the tests after it.

cryptography's Rust core looks ``datetime.datetime`` up once per process, on the first X.509 signature, and
keeps the type. Were that first signature made under freezegun it would keep ``FakeDatetime`` and refuse every
real datetime afterwards, so a 缮证 in a later test fails — depending on which test a worker ran first. So
one certificate is signed with the real clock before any clock is frozen (``warm_up_before_freezing``)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import freezegun
import freezegun.config

_warm = False


def warm_up_before_freezing() -> None:
    """Sign one throw-away X.509 certificate with the real clock (once per process)."""
    global _warm
    if _warm:
        return
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "warm-up")])
    now = datetime.now(UTC)
    (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
     .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    _warm = True


@contextmanager
def frozen_clock(now: str) -> Iterator[None]:
    """The clock stopped at ``now`` (UTC) and ticking on, for every thread: freezegun by default hands real
    time to a thread started from ``threading`` (the 税务 simulator's callback), whose signature would then
    carry today's timestamp and be refused by the frozen app."""
    warm_up_before_freezing()
    defaults = list(freezegun.config.settings.default_ignore_list)
    freezegun.configure(default_ignore_list=[m for m in defaults if m != "threading"])
    try:
        with freezegun.freeze_time(now, tick=True):
            yield
    finally:
        freezegun.configure(default_ignore_list=defaults)
