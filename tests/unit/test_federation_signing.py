"""The canonical text a platform-to-platform signature covers, the Ed25519 round trip, and the level/code rule."""
from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.config import ConfigError, check_platform
from app.federation import signing
from app.federation.client import signed_headers


def test_canonical_request_is_one_field_per_line() -> None:
    body = '{"a":"中"}'.encode()
    text = signing.canonical_request("post", "/federation/ping?x=1", "1765000000", "n" * 20, body, "330000", "330100")
    assert text == ("FED1\nPOST\n/federation/ping?x=1\n1765000000\n" + "n" * 20 + "\n"
                    + hashlib.sha256(body).hexdigest() + "\n330000\n330100").encode()


def test_every_field_changes_the_text() -> None:
    base = ("POST", "/federation/ping", "1765000000", "n" * 20, b"{}", "330000", "330100")
    texts = {signing.canonical_request(*base)}
    for i, changed in enumerate(("GET", "/federation/other", "1765000001", "m" * 20, b"{ }", "330200", "330200")):
        fields = list(base)
        fields[i] = changed
        texts.add(signing.canonical_request(*fields))  # type: ignore[arg-type]
    assert len(texts) == 8


def test_a_line_break_in_a_field_is_refused() -> None:
    with pytest.raises(signing.FederationRefused) as refused:
        signing.canonical_request("POST", "/a\n/b", "1", "n" * 20, b"", "330000", "330100")
    assert refused.value.code == "signature_invalid"


def test_sign_and_verify_round_trip() -> None:
    secret = base64.b64encode(os.urandom(32)).decode()
    key = signing.private_key(secret)
    public = signing.parse_public_key(signing.public_key_text(key))
    message = signing.canonical_request("POST", "/p", "1", "n" * 20, b"x", "330000", "330100")
    signature = signing.sign(key, message)
    assert signing.verify(public, message, signature)
    assert not signing.verify(public, message + b"!", signature)
    assert not signing.verify(signing.parse_public_key(signing.public_key_text(Ed25519PrivateKey.generate())),
                              message, signature)
    assert not signing.verify(public, message, "%%%not-base64")


def test_signed_headers_carry_what_the_receiver_rebuilds() -> None:
    key = Ed25519PrivateKey.generate()
    headers = signed_headers(key, sender="330000", audience="330100", method="POST", path="/p", body=b"{}",
                             timestamp=1765000000, nonce="abcdefghijklmnopqr")
    message = signing.canonical_request("POST", "/p", "1765000000", "abcdefghijklmnopqr", b"{}", "330000", "330100")
    assert signing.verify(key.public_key(), message, headers[signing.HEADER_SIGNATURE])
    assert headers[signing.HEADER_PEER] == "330000" and headers[signing.HEADER_AUDIENCE] == "330100"


@pytest.mark.parametrize("secret", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_a_missing_or_malformed_own_key_is_named(secret: str) -> None:
    with pytest.raises(signing.FederationKeyMissing):
        signing.private_key(secret)


@pytest.mark.parametrize(("level", "code"), [("national", "000000"), ("province", "330000"), ("city", "330100"),
                                             ("city", "330200")])
def test_levels_and_codes_that_agree(level: str, code: str) -> None:
    check_platform(level, code)


@pytest.mark.parametrize(("level", "code"), [("national", "330000"), ("province", "330100"), ("province", "000000"),
                                             ("city", "330000"), ("city", "33010"), ("county", "330106")])
def test_levels_and_codes_that_do_not(level: str, code: str) -> None:
    with pytest.raises(ConfigError):
        check_platform(level, code)


def test_an_older_keys_file_gets_a_federation_key_and_keeps_the_rest(tmp_path: Path) -> None:
    from app.config import KEYS_FILE, read_keys_file
    from app.security.keygen import write_keys_file

    path = tmp_path / KEYS_FILE
    path.write_text("SECRET_KEY=old-secret\nBLIND_INDEX_KEY=old-index\n", encoding="utf-8")
    assert not write_keys_file(tmp_path)
    first = read_keys_file(path)
    assert first["SECRET_KEY"] == "old-secret" and first["BLIND_INDEX_KEY"] == "old-index"
    signing.private_key(first["FEDERATION_SIGNING_KEY"])  # a usable key
    write_keys_file(tmp_path)
    assert read_keys_file(path) == first  # added once, then kept


def test_the_platform_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import Settings

    monkeypatch.delenv("PLATFORM_LEVEL", raising=False)
    monkeypatch.delenv("PLATFORM_CODE", raising=False)
    default = Settings.from_env()
    assert (default.platform_level, default.platform_code) == ("city", "330100")  # today's platform
    monkeypatch.setenv("PLATFORM_LEVEL", "National")
    assert Settings.from_env().platform_code == "000000"
    monkeypatch.setenv("PLATFORM_LEVEL", "province")
    with pytest.raises(ConfigError, match="PLATFORM_CODE"):  # a province must say which
        Settings.from_env()
    monkeypatch.setenv("PLATFORM_CODE", "330000")
    assert (Settings.from_env().platform_level, Settings.from_env().platform_code) == ("province", "330000")
    monkeypatch.setenv("PLATFORM_LEVEL", "county")
    with pytest.raises(ConfigError, match="PLATFORM_LEVEL"):
        Settings.from_env()
