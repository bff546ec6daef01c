"""Validation of mainland resident ID numbers and phone numbers (pure: no Django).

Resident ID (居民身份证号码), GB 11643-1999 "Citizen identification number":
  6-digit address code, 8-digit birth date YYYYMMDD, 3-digit sequence code (odd for men, even
  for women), 1 check character. Check character: ISO 7064:1983 MOD 11-2 — the weighted sum of
  the first 17 digits with weights 2^(18-i) mod 11 (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2),
  taken mod 11, indexes "10X98765432".
Phone numbers: mainland mobile numbers are 11 digits starting 13–19 (MIIT numbering plan);
landlines are an area code 0 + 2–3 digits and a 7–8 digit local number, optionally an extension.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

# ASCII digits only: \d and str.isdigit() also take Arabic-Indic and other digit sets, which
# would be stored as typed and slip past the duplicate check (found by tests/test_properties).
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE = re.compile(r"^0[0-9]{2,3}[0-9]{7,8}$")


class InvalidNumber(ValueError):
    """The value is not a valid number; ``code`` says why (the caller words it for people)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str  # "male" or "female"


def normalise_id_number(value: str) -> str:
    """Upper-case X, no spaces; full-width digits and Ｘ are folded to ASCII."""
    folded = value.strip().translate(str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX"))
    return folded.replace(" ", "").upper()


def check_char(first17: str) -> str:
    total = sum(map(operator.mul, map(int, first17), WEIGHTS))
    return CHECK_CHARS[total % 11]


def parse_resident_id(value: str, *, today: date) -> ResidentId:
    number = normalise_id_number(value)
    if len(number) != 18:
        raise InvalidNumber("id_length")
    if not _ID_SHAPE.match(number):
        raise InvalidNumber("id_shape")
    if number[:6] == "000000":
        raise InvalidNumber("id_region")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidNumber("id_birth_date") from None
    if born > today or born.year < 1880:
        raise InvalidNumber("id_birth_impossible")
    if check_char(number[:17]) != number[17]:
        raise InvalidNumber("id_check_digit")
    sex = "male" if int(number[16]) % 2 else "female"
    return ResidentId(number=number, birth_date=born, sex=sex)


def normalise_phone(value: str) -> str:
    """Digits only, without a +86 / 0086 / 86 country prefix on mobile numbers."""
    digits = re.sub(r"[\s\-()（）]", "", value.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    extension = ""
    if "转" in digits or "#" in digits:
        digits, _sep, extension = re.split(r"(转|#)", digits, maxsplit=1)
        if not (extension.isascii() and extension.isdigit()):
            raise InvalidNumber("phone_extension")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidNumber("phone_digits")
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return f"{digits}-{extension}" if extension else digits
    raise InvalidNumber("phone_shape")


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
