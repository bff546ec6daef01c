import base64
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.lib.crypto import DecryptionError, Keyring, decode_master_key


def key() -> bytes:
    return secrets.token_bytes(32)


def test_round_trip_and_fresh_nonce_each_time():
    ring = Keyring([key()])
    a = ring.encrypt("110101199003074514", context="person.id_number")
    b = ring.encrypt("110101199003074514", context="person.id_number")
    assert a != b
    assert "110101199003074514" not in a
    assert ring.decrypt(a, context="person.id_number") == "110101199003074514"


@given(st.text(max_size=500))
def test_any_text_round_trips(text):
    ring = Keyring([b"k" * 32])
    assert ring.decrypt(ring.encrypt(text, context="c"), context="c") == text


def test_ciphertext_is_bound_to_its_field():
    ring = Keyring([key()])
    token = ring.encrypt("13800000000", context="person.phone")
    with pytest.raises(DecryptionError):
        ring.decrypt(token, context="person.address")


def test_tampering_is_detected():
    ring = Keyring([key()])
    token = ring.encrypt("secret note", context="c")
    version, key_id, body = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 1
    forged = f"{version}.{key_id}." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(DecryptionError):
        ring.decrypt(forged, context="c")
    with pytest.raises(DecryptionError):
        ring.decrypt("not a token", context="c")


def test_rotation_old_ciphertexts_still_decrypt_and_are_flagged():
    old, new = key(), key()
    token = Keyring([old]).encrypt("x", context="c")
    rotated = Keyring([new, old])
    assert rotated.decrypt(token, context="c") == "x"
    assert rotated.needs_rotation(token)
    assert not rotated.needs_rotation(rotated.encrypt("x", context="c"))
    with pytest.raises(DecryptionError):
        Keyring([new]).decrypt(token, context="c")


def test_blind_index_is_keyed_deterministic_and_context_bound():
    k = key()
    ring = Keyring([k])
    assert ring.blind_index("13800000000", context="phone") == Keyring([k]).blind_index(
        "13800000000", context="phone"
    )
    assert ring.blind_index("13800000000", context="phone") != ring.blind_index(
        "13800000000", context="id"
    )
    assert ring.blind_index("13800000000", context="phone") != Keyring([key()]).blind_index(
        "13800000000", context="phone"
    )


def test_master_key_must_be_32_bytes_of_base64():
    good = base64.urlsafe_b64encode(b"a" * 32).decode()
    assert decode_master_key(good) == b"a" * 32
    with pytest.raises(ValueError, match="32 bytes"):
        decode_master_key(base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(ValueError, match="base64"):
        decode_master_key("***")


def test_files_round_trip_and_are_bound_to_their_context():
    ring = Keyring([key()])
    blob = ring.encrypt_bytes(b"\xe5\xa7\x93\xe5\x90\x8d,phone\n", context="import:1")
    assert b"phone" not in blob
    assert ring.decrypt_bytes(blob, context="import:1") == b"\xe5\xa7\x93\xe5\x90\x8d,phone\n"
    with pytest.raises(DecryptionError):
        ring.decrypt_bytes(blob, context="import:2")
