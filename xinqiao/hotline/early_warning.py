"""The daily early-warning run: detector alarms become emerging-issue reports to the street
office (issue #7 item 5; seed 000 二(七) "对发现的突出问题或可能的应激事件 … 及时报告街道").

Each day, for yesterday (the last complete day):

* Series. For every street with calls or messages in the window (``Call.area``,
  ``MailboxMessage.area``) and for every hotline centre (its calls, and the messages sent to
  it), one daily series of the last ``WINDOW_DAYS`` days ending yesterday, zero-filled: all
  categories together (``category = ""``) and one per first-level category (a call counts
  once in each of its categories).
* Detection. ``xinqiao.hotline.detect.detect(series)`` with its default method.
* Report. An alarm on yesterday with at least ``MIN_COUNT`` calls and messages that day makes
  one ``EmergingIssueReport`` — to the street itself for a street series, to the centre's
  parent unit for a centre series — unless the series was already reported in the
  ``REPEAT_DAYS`` (7) days before: a rise that goes on is one report, not one a day. The
  unique constraint (source unit, category, day) makes a second run on the same day a no-op.
* Notification. The administrators of that unit who may handle reports get an in-app
  notification (and the deployment's external channels) naming the unit and the category,
  never anyone's data, with a link to the report.

``MIN_COUNT = 5``: below five contacts in a day an alarm says little (a quiet street going
from 0 to 3 is a "rise" to any method) and the report could point at one or two callers; the
same threshold as the small-cell rule of DESIGN.md "Data and privacy".
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao.hotline import detect as detector
from xinqiao.hotline.categories import GROUPS
from xinqiao.hotline.models import Call, EmergingIssueReport, MailboxMessage, ReportStatus
from xinqiao.hotline.trends import day_bounds, zone
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import Action, role_allows

log = logging.getLogger(__name__)

WINDOW_DAYS = 120
MIN_COUNT = 5
REPEAT_DAYS = 7

# (source unit id, category) → {day: n}
SeriesMap = dict[tuple[Any, str], dict[date, int]]


def _add(
    into: SeriesMap, queryset: QuerySet[Any], unit_field: str, key: str | None, stamp: str
) -> None:
    tz = zone()
    values = [unit_field, "day"] + ([key] if key else [])
    rows = (
        queryset.annotate(day=TruncDate(stamp, tzinfo=tz))
        .values(*values)
        .annotate(n=Count("id", distinct=True))
        .order_by()
    )
    for row in rows:
        category = (row[key] or "") if key else ""
        if key and not category:
            continue  # no category recorded: counted in "all" only
        series = into.setdefault((row[unit_field], category), defaultdict(int))
        series[row["day"]] += int(row["n"])


def collect(day: date, *, window: int = WINDOW_DAYS) -> SeriesMap:
    """Daily counts for every street and centre series, the ``window`` days ending ``day``."""
    start = day - timedelta(days=window - 1)
    since, until = day_bounds(start, day)
    calls = Call.objects.filter(started_at__gte=since, started_at__lt=until)
    messages = MailboxMessage.objects.filter(created_at__gte=since, created_at__lt=until)
    out: SeriesMap = {}
    streets_calls = calls.filter(area__isnull=False)
    streets_messages = messages.filter(area__isnull=False)
    for key_call, key_message in ((None, None), ("problems__group", "category")):
        _add(out, streets_calls, "area_id", key_call, "started_at")
        _add(out, streets_messages, "area_id", key_message, "created_at")
        _add(out, calls, "centre_id", key_call, "started_at")
        _add(
            out,
            messages.filter(unit__kind=UnitKind.HOTLINE_CENTRE),
            "unit_id",
            key_message,
            "created_at",
        )
    return out


def zero_filled(counts: dict[date, int], end: date, window: int) -> list[tuple[date, int]]:
    start = end - timedelta(days=window - 1)
    return [
        (start + timedelta(days=i), counts.get(start + timedelta(days=i), 0)) for i in range(window)
    ]


@dataclass(frozen=True)
class Outcome:
    reports: list[EmergingIssueReport]
    series: int
    alarms: int
    below_minimum: int
    repeated: int


def recipients_of(unit: Unit) -> list[Any]:
    """Active members of ``unit`` whose role there handles emerging-issue reports."""
    return [
        m.user
        for m in Membership.objects.filter(unit=unit, user__is_active=True).select_related("user")
        if role_allows(m.role, Action.ISSUE_REPORT_HANDLE)
    ]


def _notify(report: EmergingIssueReport) -> None:
    from xinqiao.notify.actions import notify

    url = reverse("hotline:report", kwargs={"report_id": report.pk})
    by_language: dict[str, list[Any]] = {}
    for user in recipients_of(report.unit):
        by_language.setdefault(user.language or "zh-hans", []).append(user)
    for language, users in by_language.items():
        with translation.override(language):
            values = {
                "category": category_label(report.category),
                "unit": report.source_unit.name,
                "day": report.day.isoformat(),
                "observed": report.observed,
                "expected": report.expected,
            }
            subject = _("Emerging issue: %(category)s, %(unit)s") % values
            body = (
                _(
                    "Calls and messages about %(category)s from %(unit)s rose on %(day)s: "
                    "%(observed)d against about %(expected).1f expected. Open the report."
                )
                % values
            )
        notify(recipients=users, subject=str(subject), body=str(body), url=url, obj=report)


def category_label(code: str) -> str:
    if not code:
        return _("all categories")
    category = GROUPS.get(code)
    return str(category.label) if category else code


def _report_unit(source: Unit) -> Unit:
    """A street series goes to the street office; a centre series to the centre's parent."""
    if source.kind == UnitKind.HOTLINE_CENTRE and source.parent is not None:
        return source.parent
    return source


def run(
    today: date | None = None, *, method: str | None = None, window: int = WINDOW_DAYS
) -> Outcome:
    """The daily run for ``today`` (it looks at yesterday). Safe to run twice."""
    today = today or timezone.localdate()
    day = today - timedelta(days=1)
    method = method or detector.DEFAULT_METHOD
    data = collect(day, window=window)
    units = {
        u.pk: u for u in Unit.objects.filter(pk__in={k[0] for k in data}).select_related("parent")
    }
    reports: list[EmergingIssueReport] = []
    alarms = below = repeated = 0
    for (unit_id, category), counts in sorted(
        data.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
    ):
        source = units.get(unit_id)
        if source is None or counts.get(day, 0) == 0:
            continue
        series = zero_filled(counts, day, window)
        found = {a.day: a for a in detector.detect(series, method=method)}
        alarm = found.get(day)
        if alarm is None:
            continue
        alarms += 1
        if alarm.observed < MIN_COUNT:
            below += 1
            continue
        # A rise that goes on is one report, not one a day: none if the series was reported
        # in the REPEAT_DAYS before (the CUSUM restarts after a signal and may flag again).
        if EmergingIssueReport.objects.filter(
            source_unit=source,
            category=category,
            day__gte=day - timedelta(days=REPEAT_DAYS),
            day__lt=day,
        ).exists():
            repeated += 1
            continue
        report = _create(source, category, alarm, method, series)
        if report is not None:
            reports.append(report)
    log.info(
        "early warning %s: %d series, %d alarms, %d reports", day, len(data), alarms, len(reports)
    )
    return Outcome(
        reports=reports,
        series=len(data),
        alarms=alarms,
        below_minimum=below,
        repeated=repeated,
    )


def _create(
    source: Unit, category: str, alarm: detector.Alarm, method: str, series: list[tuple[date, int]]
) -> EmergingIssueReport | None:
    try:
        with transaction.atomic():
            report, created = EmergingIssueReport.objects.get_or_create(
                source_unit=source,
                category=category,
                day=alarm.day,
                defaults={
                    "unit": _report_unit(source),
                    "method": method,
                    "observed": alarm.observed,
                    "expected": alarm.expected,
                    "score": alarm.score,
                    "series": [[d.isoformat(), n] for d, n in series],
                },
            )
            if not created:
                return None
            _notify(report)
            return report
    except IntegrityError:  # a concurrent run made it first
        return None


# --- handling a report -----------------------------------------------------------------------


def handle(
    *, report: EmergingIssueReport, user: Any, status: str, response: str
) -> EmergingIssueReport:
    """Acknowledge or close a report with the office's response (transition table on the
    model). Raises ``ValueError`` with a message for a transition that is not allowed."""
    from xinqiao.audit.log import acting

    response = (response or "").strip()
    if len(response) > 4000:
        raise ValueError(_("The response is too long (at most 4000 characters)."))
    with transaction.atomic():
        locked = EmergingIssueReport.objects.select_for_update().get(pk=report.pk)
        if status not in EmergingIssueReport.TRANSITIONS.get(locked.status, frozenset()):
            raise ValueError(_("This report cannot change to that status."))
        locked.status = status
        if response:
            locked.response = response
        fields = ["status", "response"]
        if locked.acknowledged_at is None:
            locked.acknowledged_by = user
            locked.acknowledged_at = timezone.now()
            fields += ["acknowledged_by", "acknowledged_at"]
        with acting(user):
            locked.save(update_fields=fields)
    return locked


OPEN_STATUSES = (ReportStatus.NEW, ReportStatus.ACKNOWLEDGED)
