"""Encrypted model fields (DESIGN.md "Data and privacy").

``EncryptedTextField`` stores AES-256-GCM ciphertext (``xinqiao.lib.crypto``) bound to its
table and column; Python code sees plaintext. It cannot be searched: exact lookups use a blind
index column beside it (``blind_index(value, purpose)``), never decryption of the table.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models

from xinqiao.lib.crypto import Keyring


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return Keyring(list(settings.DATA_KEYS))


def blind_index(value: str, purpose: str) -> str:
    """Keyed HMAC of an already normalised value, e.g. ``blind_index(id_number, "id_number")``."""
    return keyring().blind_index(value, context=purpose)


def blind_indexes(value: str, purpose: str) -> list[str]:
    """The blind index under every key in the keyring (for lookups during a key rotation)."""
    return keyring().blind_indexes(value, context=purpose)


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text encrypted at rest. Empty strings stay empty (nothing to hide, and cheap)."""

    def contribute_to_class(self, cls: Any, name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        self.context = f"{cls._meta.label_lower}.{name}"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return keyring().decrypt(value, context=self.context)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return keyring().encrypt(str(value), context=self.context)

    def encrypt(self, value: str) -> str:
        """The stored form of ``value`` (for bulk COPY paths that bypass the ORM)."""
        return "" if value == "" else keyring().encrypt(value, context=self.context)
