"""Pure rules of person files: resident ID numbers, phones, the four priority levels."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.people_data import resident_id
from xinqiao.people.idcard import (
    InvalidNumber,
    check_char,
    normalise_phone,
    parse_resident_id,
)
from xinqiao.people.models import TargetGroup
from xinqiao.people.priority import LEVEL_RULES, priority_level

TODAY = date(2026, 11, 22)


def test_the_standards_own_example():
    # GB 11643-1999 appendix example: 11010519491231002X.
    parsed = parse_resident_id("11010519491231002x", today=TODAY)
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "female"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1101051949123100", "id_length"),
        ("11010519491231002Y", "id_shape"),
        ("00000019491231002X", "id_region"),
        ("110105194902300021", "id_birth_date"),
        ("110105209912310021", "id_birth_impossible"),
        ("110105194912310021", "id_check_digit"),
    ],
)
def test_bad_id_numbers_say_why(number, code):
    with pytest.raises(InvalidNumber) as info:
        parse_resident_id(number, today=TODAY)
    assert info.value.code == code


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY), st.integers(0, 10**6), st.booleans())
def test_generated_numbers_validate_and_one_wrong_digit_is_caught(born, serial, male):
    number = resident_id(born, serial, male=male)
    parsed = parse_resident_id(number, today=TODAY)
    assert parsed.birth_date == born
    assert parsed.sex == ("male" if male else "female")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidNumber):
        parse_resident_id(wrong, today=TODAY)


def test_check_char_weights():
    assert check_char("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("138 0013 8000", "13800138000"),
        ("+86 13800138000", "13800138000"),
        ("010-12345678", "01012345678"),
        ("0755-1234567转123", "07551234567-123"),
        ("（010）12345678", "01012345678"),
    ],
)
def test_phone_numbers_are_normalised(raw, clean):
    assert normalise_phone(raw) == clean


@pytest.mark.parametrize("raw", ["12345", "1380013800", "23800138000", "abc", "138001380001"])
def test_bad_phone_numbers(raw):
    with pytest.raises(InvalidNumber):
        normalise_phone(raw)


def test_every_target_group_has_a_cited_level():
    assert set(LEVEL_RULES) == set(TargetGroup.values)
    for level, source in LEVEL_RULES.values():
        assert 1 <= level <= 4
        assert source.startswith(f"第{'一二三四'[level - 1]}级")


@pytest.mark.parametrize(
    ("groups", "level"),
    [
        ([], 4),
        (["general_public"], 4),
        (["confirmed_patient"], 1),
        (["frontline_medical"], 1),
        (["suspected_patient"], 2),
        (["close_contact"], 2),
        (["cured_patient"], 2),
        (["family_of_patient"], 3),
        (["family_of_deceased"], 3),
        (["frontline_police_community"], 3),
        (["student", "hardship"], 4),
        (["family_of_patient", "close_contact"], 2),  # highest wins
        (["general_public", "confirmed_patient", "family_of_deceased"], 1),
    ],
)
def test_priority_level_table(groups, level):
    assert priority_level(groups) == level
