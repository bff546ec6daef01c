"""Outcome tracking (效果评估): MISSION.md R-REPORT, issue #6 item 4.

The first against the latest completed PHQ-9 / GAD-7 of each person, classified by
``xinqiao.instruments.change`` (Jacobson & Truax 1991 reliable change; the IAPT / NHS Talking
Therapies criteria of Gyani et al. 2013 for reliable improvement, caseness and recovery).
For a programme: baseline = the latest score on or before its start (or, if none, the first
within it); post = the latest after the baseline (up to the programme's end, if it has one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from xinqiao.assessments.models import Assessment, AssessmentStatus
from xinqiao.counselling.models import Programme, SessionParticipant
from xinqiao.instruments.change import CRITERIA, Summary, classify, summarise
from xinqiao.people.models import Person

INSTRUMENTS = ("phq9", "gad7")


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _as_datetime(day: date | datetime | None, *, end_of_day: bool = False) -> datetime | None:
    if day is None or isinstance(day, datetime):
        return day
    return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=_tz())


def _scores(people: Any, instrument: str) -> dict[Any, list[tuple[datetime, int]]]:
    rows = (
        Assessment.objects.filter(
            person__in=people,
            instrument=instrument,
            status=AssessmentStatus.COMPLETED,
            total__isnull=False,
        )
        .order_by("person_id", "completed_at")
        .values_list("person_id", "completed_at", "total")
    )
    scores: dict[Any, list[tuple[datetime, int]]] = {}
    for person_id, at, total in rows:
        if at is not None and total is not None:
            scores.setdefault(person_id, []).append((at, total))
    return scores


Dated = tuple[datetime, int]


def bounds(
    start: date | datetime | None, end: date | datetime | None
) -> tuple[datetime | None, datetime | None]:
    """A window as ``pre_post`` takes it: a date ``start`` from the start of its day, a date
    ``end`` to the end of its day (local time)."""
    return _as_datetime(start), _as_datetime(end, end_of_day=True)


def dated_pre_post(
    scores: list[Dated], *, start: datetime | None, end: datetime | None
) -> tuple[Dated, Dated] | None:
    """``pre_post`` with the time of each of the two scores: ((at, baseline), (at, post))."""
    if end is not None:
        scores = [s for s in scores if s[0] <= end]
    if start is None:
        if len(scores) < 2:
            return None
        return scores[0], scores[-1]
    before = [s for s in scores if s[0] <= start]
    after = [s for s in scores if s[0] > start]
    if before:
        baseline = before[-1]
    elif after:
        baseline, after = after[0], after[1:]
    else:
        return None
    later = [s for s in after if s[0] > baseline[0]]
    if not later:
        return None
    return baseline, later[-1]


def pre_post(
    scores: list[tuple[datetime, int]], *, start: datetime | None, end: datetime | None
) -> tuple[int, int] | None:
    """(baseline, post) from one person's scores in time order, or None."""
    pair = dated_pre_post(scores, start=start, end=end)
    return None if pair is None else (pair[0][1], pair[1][1])


@dataclass(frozen=True)
class Outcome:
    instrument: str
    summary: Summary

    @property
    def no_reliable_change(self) -> int:
        s = self.summary
        return s.people - s.reliably_improved - s.reliably_deteriorated

    @property
    def deterioration_rate(self) -> float | None:
        s = self.summary
        return s.reliably_deteriorated / s.people if s.people else None


def outcomes_for(
    people: QuerySet[Person] | Iterable[Person],
    instrument: str,
    *,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
) -> Outcome:
    """The outcome counts over ``people`` on ``instrument`` (phq9 or gad7). Without ``start``:
    first against latest; with it: baseline on or before ``start`` (or the first after),
    post the latest after the baseline, up to ``end``."""
    if instrument not in CRITERIA:
        raise ValueError(f"no change criteria for {instrument!r}")
    scores = _scores(people, instrument)
    start_at = _as_datetime(start)
    end_at = _as_datetime(end, end_of_day=True)
    pairs = []
    for person_scores in scores.values():
        pair = pre_post(person_scores, start=start_at, end=end_at)
        if pair is not None:
            pairs.append(pair)
    return Outcome(instrument=instrument, summary=summarise(instrument, pairs))


def person_outcomes(person: Person) -> dict[str, Any]:
    """instrument → the Change from the person's first to latest completed score (or None)."""
    result: dict[str, Any] = {}
    for instrument in INSTRUMENTS:
        person_scores = _scores([person], instrument).get(person.pk, [])
        pair = pre_post(person_scores, start=None, end=None)
        result[instrument] = classify(instrument, *pair) if pair else None
    return result


def programme_people(programme: Programme) -> QuerySet[Person]:
    ids = SessionParticipant.objects.filter(session__programme=programme).values("person_id")
    return Person.objects.filter(pk__in=ids)


def programme_outcomes(programme: Programme) -> list[Outcome]:
    people = programme_people(programme)
    return [
        outcomes_for(people, i, start=programme.starts_on, end=programme.ends_on)
        for i in INSTRUMENTS
    ]


def small(count: int) -> bool:
    """A count below the small-cell threshold is suppressed where it leaves the unit."""
    return 0 < count < settings.XINQIAO_SMALL_CELL_THRESHOLD
