"""The periodic hotline summary per centre, weekly or monthly (issue #7 item 6; seed 002 篇6
三(五)2 热线 … 定时分析汇总; MISSION.md R-HOTLINE "periodic analysis of what callers raise").

For one centre and one period (an ISO week Monday–Sunday, or a calendar month):

* volume: calls, their total and median duration, days in the period;
* answer coverage by hour of day (0–23): calls started in that hour, and in how many of the
  period's days that hour was covered by a shift on one of the centre's seats (a shift that
  overlaps the hour) or not — the seed's 24小时不间断 service asks for no uncovered hour;
* categories: calls per first-level problem category (a call counts once in each);
* risk calls (medium and high, the operator's judgement): how many, and how they were handled
  — interventions given, referred, crisis alert raised and the alert's status now, call-back
  scheduled and done;
* referrals: calls by referral;
* mailbox: messages received by the centre, answered (a counsellor's reply exists), and the
  median time from the message to the first counsellor's reply.

Counts only; no notes, no names.
"""

from __future__ import annotations

import calendar
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Min, Q
from django.utils.translation import gettext as _

from xinqiao.hotline.categories import TAXONOMY
from xinqiao.hotline.models import (
    Call,
    CallProblem,
    CallReferral,
    Intervention,
    MailboxMessage,
    Shift,
    TextRisk,
)
from xinqiao.hotline.trends import day_bounds, zone
from xinqiao.orgs.models import Unit

PERIODS = ("week", "month")


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The week (Monday–Sunday) or calendar month containing ``day``."""
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if kind == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    raise ValueError(f"period: one of {', '.join(PERIODS)}")


@dataclass
class HourRow:
    hour: int
    calls: int
    covered: int  # days of the period with a shift over this hour
    uncovered: int


@dataclass
class RiskHandling:
    level: str
    calls: int = 0
    interventions: Counter[str] = field(default_factory=Counter)
    referred: int = 0
    alert_raised: int = 0
    alert_status: Counter[str] = field(default_factory=Counter)
    callback_scheduled: int = 0
    callback_done: int = 0


@dataclass
class Summary:
    centre: Unit
    kind: str
    start: date
    end: date
    calls: int
    total_minutes: int
    median_minutes: float | None
    hours: list[HourRow]
    categories: list[tuple[str, str, int]]  # (code, label, calls)
    risk: list[RiskHandling]
    referrals: list[tuple[str, str, int]]  # (code, label, calls)
    messages_received: int
    messages_answered: int
    median_first_answer_hours: float | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def uncovered_hours(self) -> int:
        return sum(h.uncovered for h in self.hours)

    @property
    def calls_in_uncovered_hours(self) -> int:
        return sum(h.calls for h in self.hours if h.uncovered == self.days)


def _coverage(centre: Unit, start: date, end: date) -> list[list[bool]]:
    """covered[day index][hour]: a shift on a seat of the centre overlaps that hour."""
    tz = zone()
    days = (end - start).days + 1
    covered = [[False] * 24 for _ in range(days)]
    since, until = day_bounds(start, end)
    shifts = Shift.objects.filter(
        seat__centre=centre, starts_at__lt=until, ends_at__gt=since
    ).values_list("starts_at", "ends_at")
    for starts_at, ends_at in shifts:
        a = max(starts_at, since).astimezone(tz)
        b = min(ends_at, until).astimezone(tz)
        slot = datetime(a.year, a.month, a.day, a.hour, tzinfo=tz)
        while slot < b:
            index = (slot.date() - start).days
            if 0 <= index < days:
                covered[index][slot.hour] = True
            slot = (slot + timedelta(hours=1)).astimezone(tz)
    return covered


def summarise(centre: Unit, kind: str, day: date) -> Summary:
    start, end = period_of(kind, day)
    tz = zone()
    since, until = day_bounds(start, end)
    calls = list(
        Call.objects.filter(centre=centre, started_at__gte=since, started_at__lt=until)
        .select_related("alert")
        .order_by("started_at")
    )
    by_hour = Counter(c.started_at.astimezone(tz).hour for c in calls)
    covered = _coverage(centre, start, end)
    days = len(covered)
    hours = []
    for h in range(24):
        n = sum(1 for d in range(days) if covered[d][h])
        hours.append(HourRow(hour=h, calls=by_hour.get(h, 0), covered=n, uncovered=days - n))
    minutes = [c.duration_seconds / 60 for c in calls]

    pairs = set(
        CallProblem.objects.filter(
            call__centre=centre, call__started_at__gte=since, call__started_at__lt=until
        ).values_list("call_id", "group")
    )
    groups = Counter(group for _call, group in pairs)
    known = {c.code for c in TAXONOMY}
    categories = [(c.code, str(c.label), groups[c.code]) for c in TAXONOMY if groups.get(c.code)]
    categories += [(g, g, n) for g, n in sorted(groups.items()) if g not in known]

    risk = []
    for level in (TextRisk.HIGH, TextRisk.MEDIUM):
        row = RiskHandling(level=level)
        for call in calls:
            if call.risk != level:
                continue
            row.calls += 1
            row.interventions.update(call.interventions or [])
            if call.referral and call.referral != CallReferral.NONE:
                row.referred += 1
            if call.alert is not None:
                row.alert_raised += 1
                row.alert_status[call.alert.status] += 1
            if call.callback_at is not None:
                row.callback_scheduled += 1
            if call.callback_done_at is not None:
                row.callback_done += 1
        risk.append(row)

    referral_counts = Counter(c.referral for c in calls)
    referrals = [
        (code, str(label), referral_counts[code])
        for code, label in CallReferral.choices
        if referral_counts.get(code)
    ]

    messages = MailboxMessage.objects.filter(
        unit=centre, created_at__gte=since, created_at__lt=until
    ).annotate(first_answer=Min("replies__created_at", filter=Q(replies__author__isnull=False)))
    received = answered = 0
    waits: list[float] = []
    for message in messages:
        received += 1
        if message.first_answer is not None:
            answered += 1
            waits.append((message.first_answer - message.created_at).total_seconds() / 3600)

    return Summary(
        centre=centre,
        kind=kind,
        start=start,
        end=end,
        calls=len(calls),
        total_minutes=round(sum(minutes)),
        median_minutes=round(statistics.median(minutes), 1) if minutes else None,
        hours=hours,
        categories=categories,
        risk=risk,
        referrals=referrals,
        messages_received=received,
        messages_answered=answered,
        median_first_answer_hours=round(statistics.median(waits), 1) if waits else None,
    )


def intervention_label(code: str) -> str:
    try:
        return str(Intervention(code).label)
    except ValueError:
        return code


def risk_label(level: str) -> str:
    return str(TextRisk(level).label)


def alert_status_label(status: str) -> str:
    from xinqiao.risk.models import AlertStatus

    try:
        return str(AlertStatus(status).label)
    except ValueError:
        return status


def title(summary: Summary) -> str:
    values: dict[str, Any] = {
        "centre": summary.centre.name,
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
    }
    if summary.kind == "week":
        return _("%(centre)s: weekly summary %(start)s – %(end)s") % values
    return _("%(centre)s: monthly summary %(start)s – %(end)s") % values
