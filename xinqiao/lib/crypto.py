"""Authenticated encryption of personal fields and keyed blind indexes.

DESIGN.md "Data and privacy": sensitive personal fields (ID-card number, phone, address,
free-text notes) are encrypted at rest with an authenticated cipher; exact-match lookup uses a
keyed blind index (HMAC) stored beside the ciphertext.

* Cipher: AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce per value. The field name is
  bound as associated data, so a ciphertext copied into another column does not decrypt.
* Blind index: HMAC-SHA256 (RFC 2104) over the normalised value under a separate key, so the
  index reveals equality only and never the value.
* Both working keys are derived from one master key with HKDF-SHA256 (RFC 5869); a keyring
  holds several master keys so that old ciphertexts still decrypt after a rotation.

Token format: ``v1.<key id>.<base64url(nonce || ciphertext || tag)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"
_NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A ciphertext is malformed, was tampered with, or its key is not in the keyring."""


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def decode_master_key(text: str) -> bytes:
    """Decode a url-safe base64 master key; it must be exactly 32 bytes."""
    cleaned = text.strip().replace("+", "-").replace("/", "_")
    try:
        raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("data key is not valid base64") from exc
    if len(raw) != 32:
        raise ValueError(f"data key must be 32 bytes, got {len(raw)}")
    return raw


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


@dataclass(frozen=True)
class _Key:
    key_id: str
    aead: AESGCM
    index_key: bytes


def _make_key(master: bytes) -> _Key:
    key_id = hashlib.sha256(master).hexdigest()[:8]
    return _Key(
        key_id=key_id,
        aead=AESGCM(_derive(master, b"xinqiao field encryption v1")),
        index_key=_derive(master, b"xinqiao blind index v1"),
    )


class Keyring:
    """The first key encrypts and indexes; every key decrypts."""

    def __init__(self, master_keys: list[bytes]) -> None:
        if not master_keys:
            raise ValueError("a keyring needs at least one key")
        self._keys = [_make_key(k) for k in master_keys]
        self._by_id = {k.key_id: k for k in self._keys}

    @property
    def primary_id(self) -> str:
        return self._keys[0].key_id

    def encrypt(self, plaintext: str, *, context: str) -> str:
        key = self._keys[0]
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = key.aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{_VERSION}.{key.key_id}.{body}"

    def decrypt(self, token: str, *, context: str) -> str:
        try:
            version, key_id, body = token.split(".", 2)
        except ValueError as exc:
            raise DecryptionError("malformed ciphertext") from exc
        if version != _VERSION:
            raise DecryptionError(f"unknown ciphertext version {version!r}")
        key = self._by_id.get(key_id)
        if key is None:
            raise DecryptionError(f"key {key_id} is not in the keyring")
        try:
            raw = _b64decode(body)
            plain = key.aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode("utf-8")
            )
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DecryptionError("ciphertext failed authentication") from exc
        return plain.decode("utf-8")

    def encrypt_bytes(self, data: bytes, *, context: str) -> bytes:
        """Seal a whole file (nonce || ciphertext || tag), e.g. an uploaded spreadsheet."""
        key = self._keys[0]
        nonce = secrets.token_bytes(_NONCE_BYTES)
        header = f"{_VERSION}.{key.key_id}.".encode("ascii")
        return header + nonce + key.aead.encrypt(nonce, data, context.encode("utf-8"))

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        try:
            version, key_id, rest = blob.split(b".", 2)
        except ValueError as exc:
            raise DecryptionError("malformed ciphertext") from exc
        key = self._by_id.get(key_id.decode("ascii", "replace"))
        if version != _VERSION.encode("ascii") or key is None:
            raise DecryptionError("unknown version or key")
        try:
            return key.aead.decrypt(rest[:_NONCE_BYTES], rest[_NONCE_BYTES:], context.encode())
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication") from exc

    def needs_rotation(self, token: str) -> bool:
        """True if ``token`` was sealed with a key other than the primary one."""
        parts = token.split(".", 2)
        return len(parts) != 3 or parts[1] != self.primary_id

    def blind_index(self, value: str, *, context: str) -> str:
        """Keyed HMAC of ``value`` (already normalised by the caller) for exact lookup."""
        return self._index(self._keys[0], value, context)

    def blind_indexes(self, value: str, *, context: str) -> list[str]:
        """The index under every key, primary first: lookups match rows not yet rotated."""
        return [self._index(key, value, context) for key in self._keys]

    @staticmethod
    def _index(key: _Key, value: str, context: str) -> str:
        message = context.encode("utf-8") + b"\x00" + value.encode("utf-8")
        return hmac.digest(key.index_key, message, "sha256").hex()


def digest_token(raw: str) -> str:
    """A bearer token (API token, link token, resume key) is stored as its SHA-256 digest; the
    raw token is shown once and never kept."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
