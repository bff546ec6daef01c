"""A counsellor's bookable slots from weekly availability and exceptions (预约咨询) — pure.

MISSION.md R-BOOK. A session lasts 50 minutes by default (seed 002 篇2 三(三)2: 咨询时长为每次
50分钟). A counsellor publishes weekly windows (a weekday, a start and an end time, local
time); exceptions close a whole day or a part of one (leave, a training day) or open an
extra window on one date. Slots are cut from each window back to back from its start; a
slot that does not fit before the window's end is not offered. Two windows of the same
weekday (or two extra windows of one date) that overlap are refused: the counsellor would
be offered twice for the same time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

SESSION_MINUTES = 50  # seed 002 篇2 三(三)2 咨询时长为每次50分钟


@dataclass(frozen=True)
class Window:
    """Weekly availability: ``weekday`` 0 = Monday … 6 = Sunday."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Closed:
    """Not available on ``day`` from ``start`` to ``end`` (the whole day if both are None)."""

    day: date
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class Extra:
    """Available on ``day`` from ``start`` to ``end`` besides the weekly windows."""

    day: date
    start: time
    end: time


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


class AvailabilityError(ValueError):
    """Availability that cannot be published: ``field`` names what is wrong and ``code``
    says how (the actions turn it into a message in the user's language)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def check_windows(windows: Sequence[Window], *, minutes: int = SESSION_MINUTES) -> None:
    """Refuse a window that ends before it starts, is shorter than one session, or overlaps
    another window of the same weekday."""
    for window in windows:
        if not 0 <= window.weekday <= 6:
            raise AvailabilityError("weekday", "weekday", f"weekday {window.weekday} is not 0–6")
        _check_span(window.start, window.end, minutes)
    _check_overlaps([(w.weekday, w.start, w.end) for w in windows])


def check_extras(extras: Sequence[Extra], *, minutes: int = SESSION_MINUTES) -> None:
    for extra in extras:
        _check_span(extra.start, extra.end, minutes)
    _check_overlaps([(e.day, e.start, e.end) for e in extras])


def slots(
    *,
    windows: Sequence[Window],
    closed: Iterable[Closed] = (),
    extras: Sequence[Extra] = (),
    first_day: date,
    last_day: date,
    tz: tzinfo,
    minutes: int = SESSION_MINUTES,
) -> list[Slot]:
    """Every slot from ``first_day`` to ``last_day`` (both included), in time order, without
    those that touch a closed period. Windows are wall-clock times in ``tz`` (the city's
    zone); the slots are aware datetimes."""
    check_windows(windows, minutes=minutes)
    check_extras(extras, minutes=minutes)
    if last_day < first_day:
        raise AvailabilityError("last_day", "range", "the last day is before the first")
    closures: dict[date, list[Closed]] = {}
    for closure in closed:
        closures.setdefault(closure.day, []).append(closure)
    found: list[Slot] = []
    day = first_day
    while day <= last_day:
        spans = [(w.start, w.end) for w in windows if w.weekday == day.weekday()]
        spans += [(e.start, e.end) for e in extras if e.day == day]
        for start, end in spans:
            for slot in _cut(day, start, end, minutes, tz):
                if not any(_blocks(c, slot, tz) for c in closures.get(day, [])):
                    found.append(slot)
        day += timedelta(days=1)
    return sorted(set(found), key=lambda s: s.start)


def _cut(day: date, start: time, end: time, minutes: int, tz: tzinfo) -> list[Slot]:
    length = timedelta(minutes=minutes)
    at = datetime.combine(day, start, tzinfo=tz)
    stop = datetime.combine(day, end, tzinfo=tz)
    cut = []
    while at + length <= stop:
        cut.append(Slot(at, at + length))
        at += length
    return cut


def _blocks(closure: Closed, slot: Slot, tz: tzinfo) -> bool:
    if closure.start is None or closure.end is None:
        return True
    start = datetime.combine(closure.day, closure.start, tzinfo=tz)
    end = datetime.combine(closure.day, closure.end, tzinfo=tz)
    return slot.start < end and start < slot.end


def _check_span(start: time, end: time, minutes: int) -> None:
    if end <= start:
        raise AvailabilityError("end", "end_before_start", "the end must be after the start")
    span = datetime.combine(date.min, end) - datetime.combine(date.min, start)
    if span < timedelta(minutes=minutes):
        raise AvailabilityError(
            "end", "too_short", f"a window must hold at least one {minutes}-minute session"
        )


def _check_overlaps(spans: list[tuple[object, time, time]]) -> None:
    """Within each key (a weekday, or a date), a window starting before an earlier one ended
    overlaps it."""
    latest_end: dict[object, time] = {}
    for key, start, end in sorted(spans, key=lambda s: (str(s[0]), s[1])):
        if key in latest_end and start < latest_end[key]:
            raise AvailabilityError("start", "overlap", "two windows overlap")
        latest_end[key] = max(end, latest_end.get(key, end))
