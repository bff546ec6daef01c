"""One-time sign-in codes of the portal's light accounts (issue #8 item 5): generation,
normalisation, masking and the lock rules. Pure functions (no Django), so the rules are easy
to read and to test.

* A code is 6 digits from ``secrets`` (10^6 values).
* ``tries`` wrong entries void a code (XINQIAO_CODE_TRIES, 5 by default).
* ``LOCK_AFTER_VOIDED`` voided codes in a row (wrong entries without a good one in between)
  lock the number for XINQIAO_CODE_LOCK_MINUTES (issue #8: "one-time code guessing
  (rate-limited and locked)"). With at most XINQIAO_CODES_PER_HOUR codes an hour, a guesser
  gets at most 2 × 5 tries before a 30-minute lock: ~10 in 10^6.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_LENGTH = 6
LOCK_AFTER_VOIDED = 2


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """The code as typed (full-width digits, spaces, dashes allowed); "" if it cannot be one."""
    cleaned = re.sub(r"[\s\-·.]", "", unicodedata.normalize("NFKC", text or ""))
    if len(cleaned) != CODE_LENGTH or not cleaned.isascii() or not cleaned.isdigit():
        return ""
    return cleaned


def is_mobile(number: str) -> bool:
    """A mainland mobile number (11 digits, 1[3-9]…), as normalised by
    ``xinqiao.people.idcard.normalise_phone``."""
    return bool(re.fullmatch(r"1[3-9]\d{9}", number or ""))


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678`` (never show or log a number in full)."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


@dataclass(frozen=True)
class AfterWrong:
    """What one wrong entry does."""

    code_tries: int
    failed_codes: int
    void_code: bool
    locked_until: datetime | None


def after_wrong(
    *,
    code_tries: int,
    failed_codes: int,
    max_tries: int,
    lock_minutes: int,
    now: datetime,
) -> AfterWrong:
    """Count one wrong entry on a code (``code_tries`` so far) and on the number
    (``failed_codes`` so far, across codes): void the code at ``max_tries``, lock the number
    once ``LOCK_AFTER_VOIDED`` codes' worth of wrong entries came without a good one."""
    code_tries += 1
    failed_codes += 1
    void = code_tries >= max_tries
    locked_until = None
    if failed_codes >= max_tries * LOCK_AFTER_VOIDED:
        locked_until = now + timedelta(minutes=lock_minutes)
        failed_codes = 0
        void = True
    return AfterWrong(code_tries, failed_codes, void, locked_until)


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now
