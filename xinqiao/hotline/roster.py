"""Cover of a hotline centre by its shifts (pure core).

Seed 002 篇6 三(五)2: the hotline runs 24 hours without a break (24小时不间断服务) on 4 seats
(坐席数增加到4部). Issue #7 item 1: a gap in 24-hour cover is shown as a warning a week ahead.
A moment is covered when at least one shift runs; a seat count below ``MINIMUM_SEATS`` is
reported separately.

Shifts are (start, end) pairs of aware datetimes, end after start; the window is split into
calendar days in the time zone of ``window_start`` (Asia/Shanghai for the app).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise

MINIMUM_SEATS = 4  # seed 002 篇6 三(五)2
WARNING_DAYS = 7  # issue #7 item 1: a week ahead


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    staffed: int  # how many shifts run through the whole segment


@dataclass(frozen=True)
class DayCover:
    day: date
    gaps: tuple[tuple[datetime, datetime], ...]  # no one on duty
    short: tuple[Segment, ...]  # staffed, but by fewer than the minimum

    @property
    def gap_minutes(self) -> int:
        return sum(int((end - start).total_seconds()) // 60 for start, end in self.gaps)


def segments(
    shifts: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[Segment]:
    """The window [start, end) cut at every shift boundary, with the number of shifts
    running in each piece; neighbouring pieces of the same count are merged."""
    if end <= start:
        return []
    points = {start, end}
    for s, e in shifts:
        if e <= s:
            raise ValueError("a shift must end after it starts")
        for p in (s, e):
            if start < p < end:
                points.add(p)
    cuts = sorted(points)
    result: list[Segment] = []
    for a, b in pairwise(cuts):
        count = sum(1 for s, e in shifts if s <= a and e >= b)
        if result and result[-1].staffed == count and result[-1].end == a:
            result[-1] = Segment(result[-1].start, b, count)
        else:
            result.append(Segment(a, b, count))
    return result


def cover(
    shifts: Sequence[tuple[datetime, datetime]],
    window_start: datetime,
    days: int = WARNING_DAYS,
    minimum: int = MINIMUM_SEATS,
) -> list[DayCover]:
    """Per calendar day from ``window_start``'s day: the uncovered intervals (from
    ``window_start`` on, for the first day) and the intervals staffed below ``minimum``."""
    zone = window_start.tzinfo
    first = window_start.date()
    result: list[DayCover] = []
    for n in range(days):
        day = first + timedelta(days=n)
        day_start = datetime.combine(day, time.min, tzinfo=zone)
        day_end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        pieces = segments(shifts, max(day_start, window_start), day_end)
        result.append(
            DayCover(
                day=day,
                gaps=tuple((p.start, p.end) for p in pieces if p.staffed == 0),
                short=tuple(p for p in pieces if 0 < p.staffed < minimum),
            )
        )
    return result


def gaps(
    shifts: Sequence[tuple[datetime, datetime]],
    window_start: datetime,
    days: int = WARNING_DAYS,
) -> list[tuple[datetime, datetime]]:
    """Every interval in the next ``days`` days with nobody on duty (split at midnight)."""
    return [gap for day in cover(shifts, window_start, days) for gap in day.gaps]
