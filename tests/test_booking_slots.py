"""Bookable slots from weekly availability (R-BOOK), a pure core."""

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from xinqiao.booking import slots as core
from xinqiao.booking.slots import AvailabilityError, Closed, Extra, Window, check_windows, slots

MONDAY = date(2026, 12, 7)
CST = ZoneInfo("Asia/Shanghai")
NINE, TEN, ELEVEN, NOON = time(9), time(10), time(11), time(12)


def starts(found):
    return [s.start for s in found]


def test_fifty_minute_slots_cut_back_to_back_and_the_last_that_does_not_fit_left_out():
    found = slots(windows=[Window(0, NINE, NOON)], first_day=MONDAY, last_day=MONDAY, tz=CST)
    assert starts(found) == [
        datetime(2026, 12, 7, 9, 0, tzinfo=CST),
        datetime(2026, 12, 7, 9, 50, tzinfo=CST),
        datetime(2026, 12, 7, 10, 40, tzinfo=CST),
    ]  # 11:30–12:20 would end after noon
    assert all((s.end - s.start).seconds == 50 * 60 for s in found)


def test_only_the_window_weekdays_in_the_range():
    week = slots(
        windows=[Window(0, NINE, time(9, 50)), Window(2, NINE, time(9, 50))],
        first_day=MONDAY,
        last_day=date(2026, 12, 13),
        tz=CST,
    )
    assert [s.start.date() for s in week] == [MONDAY, date(2026, 12, 9)]


def test_a_closed_day_and_a_closed_hour_take_out_what_they_touch():
    windows = [Window(0, NINE, NOON)]
    assert (
        slots(windows=windows, closed=[Closed(MONDAY)], first_day=MONDAY, last_day=MONDAY, tz=CST)
        == []
    )
    found = slots(
        windows=windows,
        closed=[Closed(MONDAY, TEN, time(10, 30))],
        first_day=MONDAY,
        last_day=MONDAY,
        tz=CST,
    )
    # 9:50–10:40 touches 10:00–10:30; 9:00–9:50 and 10:40–11:30 stay.
    assert starts(found) == [
        datetime(2026, 12, 7, 9, 0, tzinfo=CST),
        datetime(2026, 12, 7, 10, 40, tzinfo=CST),
    ]


def test_an_extra_window_opens_one_date():
    found = slots(
        windows=[],
        extras=[Extra(date(2026, 12, 12), TEN, ELEVEN)],
        first_day=MONDAY,
        last_day=date(2026, 12, 13),
        tz=CST,
    )
    assert starts(found) == [datetime(2026, 12, 12, 10, 0, tzinfo=CST)]


def test_another_session_length():
    found = slots(
        windows=[Window(0, NINE, ELEVEN)], first_day=MONDAY, last_day=MONDAY, tz=CST, minutes=60
    )
    assert starts(found) == [
        datetime(2026, 12, 7, 9, tzinfo=CST),
        datetime(2026, 12, 7, 10, tzinfo=CST),
    ]


@pytest.mark.parametrize(
    ("windows", "field", "code"),
    [
        ([Window(0, NOON, NINE)], "end", "end_before_start"),
        ([Window(0, NINE, time(9, 30))], "end", "too_short"),
        ([Window(7, NINE, NOON)], "weekday", "weekday"),
        ([Window(0, NINE, NOON), Window(0, ELEVEN, time(13))], "start", "overlap"),
        # Overlapping a window that is not the one just before it.
        (
            [Window(1, NINE, time(17)), Window(1, TEN, ELEVEN), Window(1, time(16), time(18))],
            "start",
            "overlap",
        ),
    ],
)
def test_bad_availability_is_refused_naming_the_field(windows, field, code):
    with pytest.raises(AvailabilityError) as refused:
        check_windows(windows)
    assert (refused.value.field, refused.value.code) == (field, code)


def test_windows_on_different_days_or_touching_do_not_overlap():
    check_windows([Window(0, NINE, NOON), Window(1, NINE, NOON), Window(0, NOON, time(14))])


def test_overlapping_extras_on_one_date_and_a_reversed_range_are_refused():
    with pytest.raises(AvailabilityError, match="overlap"):
        slots(
            windows=[],
            extras=[Extra(MONDAY, NINE, ELEVEN), Extra(MONDAY, TEN, NOON)],
            first_day=MONDAY,
            last_day=MONDAY,
            tz=CST,
        )
    with pytest.raises(AvailabilityError, match="before the first"):
        slots(windows=[], first_day=MONDAY, last_day=date(2026, 12, 1), tz=CST)


def test_the_core_imports_no_django():
    assert "django" not in Path(core.__file__).read_text(encoding="utf-8")
