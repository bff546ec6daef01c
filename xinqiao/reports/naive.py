"""The dashboard figures the slow way: GROUP BY over the raw tables of a whole subtree and
period, with no aggregate table. Never used by a page; the tests and ``bench/reports.py``
compare it with ``tally.totals`` (issue #9 item 5: the aggregates exactly equal to the naive
query). Written apart from ``sources`` on purpose, from the definitions in its docstring."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date

from django.db.models import Count

from xinqiao.orgs.models import Unit
from xinqiao.reports.sources import minutes_between  # the histogram's step: a definition
from xinqiao.reports.tally import Counts, period_bounds

Naive = Callable[[str, date, date], Counts]
NAIVE: list[Naive] = []


def naive(function: Naive) -> Naive:
    NAIVE.append(function)
    return function


def totals(unit: Unit, start: date, end: date) -> Counts:
    result: Counts = {}
    for function in NAIVE:
        for cell, value in function(unit.path, start, end).items():
            if value != (0, 0):
                result[cell] = value
    return result


def _counted(counter: Counter[tuple[str, str]]) -> Counts:
    return {cell: (n, 0) for cell, n in counter.items()}


@naive
def people(path: str, start: date, end: date) -> Counts:
    from xinqiao.people.models import GroupMembership, Person

    alive = {"status": "active", "is_deceased": False, "unnamed_contact": False}
    result: Counts = {}
    levels = (
        Person.objects.filter(unit__path__startswith=path, **alive)
        .values("priority_level")
        .annotate(n=Count("id"))
    )
    for r in levels:
        result[("people.level", str(r["priority_level"]))] = (r["n"], 0)
    groups = (
        GroupMembership.objects.filter(
            person__unit__path__startswith=path,
            date_to__isnull=True,
            **{f"person__{k}": v for k, v in alive.items()},
        )
        .values("group")
        .annotate(n=Count("person_id", distinct=True))
    )
    for g in groups:
        result[("people.group", g["group"])] = (g["n"], 0)
    lo, hi = period_bounds(start, end)
    new = Person.objects.filter(
        unit__path__startswith=path, unnamed_contact=False, created_at__gte=lo, created_at__lt=hi
    ).count()
    result[("people.new", "")] = (new, 0)
    return result


@naive
def assessments(path: str, start: date, end: date) -> Counts:
    from xinqiao.assessments.models import Assessment

    lo, hi = period_bounds(start, end)
    rows = (
        Assessment.objects.filter(
            unit__path__startswith=path,
            status="completed",
            completed_at__gte=lo,
            completed_at__lt=hi,
        )
        .values("instrument", "band_code")
        .annotate(n=Count("id"))
    )
    return {("assessment", f"{r['instrument']}|{r['band_code']}"): (r["n"], 0) for r in rows}


@naive
def alerts(path: str, start: date, end: date) -> Counts:
    from xinqiao.risk.models import Alert

    lo, hi = period_bounds(start, end)
    counter: Counter[tuple[str, str]] = Counter()
    rows = Alert.objects.filter(
        unit__path__startswith=path, created_at__gte=lo, created_at__lt=hi
    ).values_list("created_at", "level", "acknowledged_at", "first_contact_at", "escalation_step")
    for created, level, acked, contacted, step in rows.iterator(chunk_size=5000):
        counter[("alert", str(level))] += 1
        for measure, moment in (("alert.ack", acked), ("alert.contact", contacted)):
            if moment is not None:
                counter[(measure, f"{level}|{minutes_between(created, moment)}")] += 1
        if step:
            counter[("alert.escalated", str(level))] += 1
    return _counted(counter)


from xinqiao.reports import naive_services  # noqa: E402, F401
