import base64

import pytest

from app.security.crypto import (
    BlindIndex,
    DecryptionFailed,
    FieldCipher,
    KeyringError,
    generate_key,
    parse_keyring,
)

ALGORITHMS = ["SM4-GCM", "AES-256-GCM"]
AAD = "party:name:42"


def cipher(algorithm: str, key_id: str = "k1") -> FieldCipher:
    return FieldCipher({key_id: generate_key(algorithm)}, key_id, algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_round_trips_a_field(algorithm):
    c = cipher(algorithm)
    for text in ["张三丰", "11010519491231002X", "", "🏠 浙江省杭州市余杭区"]:
        assert c.decrypt(c.encrypt(text, AAD), AAD) == text


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_round_trips_json(algorithm):
    c = cipher(algorithm)
    obj = {"姓名": "张三", "份额": [1, 2], "共有": True}
    assert c.decrypt_json(c.encrypt_json(obj, AAD), AAD) == obj


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_blob_is_header_nonce_ciphertext_and_tag(algorithm):
    blob = cipher(algorithm, key_id="2026-a").encrypt("张三", AAD)
    assert blob[0] == 1
    assert blob[2] == len("2026-a") and blob[3:9] == b"2026-a"
    assert len(blob) == 3 + 6 + 12 + len("张三".encode()) + 16


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_ciphertext_does_not_contain_the_plaintext(algorithm):
    c = cipher(algorithm)
    plain = "11010519491231002X"
    blob = c.encrypt(plain, AAD)
    assert plain.encode() not in blob
    assert c.encrypt(plain, AAD) != blob  # fresh nonce every time


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_value_moved_to_another_row_does_not_decrypt(algorithm):
    c = cipher(algorithm)
    blob = c.encrypt("张三", "party:name:42")
    with pytest.raises(DecryptionFailed):
        c.decrypt(blob, "party:name:43")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_any_tampered_byte_is_detected(algorithm):
    c = cipher(algorithm)
    blob = c.encrypt("张三", AAD)
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionFailed):
            c.decrypt(bytes(tampered), AAD)
    with pytest.raises(DecryptionFailed):
        c.decrypt(blob[:-1], AAD)
    with pytest.raises(DecryptionFailed):
        c.decrypt(b"", AAD)


def test_after_rotation_the_old_key_still_decrypts_and_new_values_use_the_new_key():
    old_key, new_key = generate_key("AES-256-GCM"), generate_key("SM4-GCM")
    before = FieldCipher({"k1": old_key}, "k1", "AES-256-GCM")
    blob = before.encrypt("张三", AAD)
    after = FieldCipher({"k1": old_key, "k2": new_key}, "k2", "SM4-GCM")
    assert after.decrypt(blob, AAD) == "张三"
    fresh = after.encrypt("张三", AAD)
    assert after.key_id(fresh) == "k2" and after.key_id(blob) == "k1"
    with pytest.raises(DecryptionFailed):
        FieldCipher({"k2": new_key}, "k2", "SM4-GCM").decrypt(blob, AAD)


def test_it_refuses_keys_of_the_wrong_length_loudly():
    with pytest.raises(KeyringError, match="SM4-GCM needs 16"):
        FieldCipher({"k1": generate_key("AES-256-GCM")}, "k1", "SM4-GCM")
    with pytest.raises(KeyringError, match="16 .* or 32"):
        FieldCipher({"k1": generate_key("SM4-GCM"), "old": b"short"}, "k1", "SM4-GCM")
    with pytest.raises(KeyringError, match="not in the keyring"):
        FieldCipher({"k1": generate_key("SM4-GCM")}, "k9", "SM4-GCM")
    with pytest.raises(KeyringError, match="unsupported algorithm"):
        FieldCipher({"k1": generate_key("SM4-GCM")}, "k1", "DES")  # type: ignore[arg-type]


def test_the_blind_index_ignores_case_and_spaces():
    index = BlindIndex(b"k" * 32)
    a = index.compute("11010519491231002x")
    assert a == index.compute(" 11010519491231002X")
    assert a == index.compute("110105 19491231 002X")
    assert a == index.compute("１１０１０５１９４９１２３１００２Ｘ")
    assert len(a) == 32 and int(a, 16) >= 0
    assert a != index.compute("110105194912310021")
    assert a != BlindIndex(b"j" * 32).compute("11010519491231002X")


def test_generate_key_gives_the_right_sizes():
    assert len(generate_key("SM4-GCM")) == 16
    assert len(generate_key("AES-256-GCM")) == 32


def test_it_parses_a_keyring_from_the_environment_format():
    k1, k2 = generate_key("SM4-GCM"), generate_key("AES-256-GCM")
    text = f"k1:{base64.b64encode(k1).decode()}, k2:{base64.b64encode(k2).decode()}"
    assert parse_keyring(text) == {"k1": k1, "k2": k2}


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("k1", "no ':'"),
    ("k1:not*base64", "not valid base64"),
    ("k1:" + base64.b64encode(b"short").decode(), "5 bytes"),
    ("k 1:" + base64.b64encode(b"x" * 16).decode(), "invalid key id"),
    (",".join(["k1:" + base64.b64encode(b"x" * 16).decode()] * 2), "twice"),
])
def test_it_explains_what_is_wrong_with_a_keyring(text, message):
    with pytest.raises(KeyringError, match=message):
        parse_keyring(text)
