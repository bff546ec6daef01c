"""Counts of hotline calls and mailbox messages for the trend pages (issue #7 item 5;
MISSION.md R-HOTLINE "periodic analysis of what callers raise").

Scope: a call is counted for a user when its centre **or** the caller's street (``area``) lies
in the user's scope for ``TRENDS_VIEW``; a message when its unit or its street does. So the
hotline centre sees every call it took, and a street office sees the calls and messages from
its street whichever centre took them (seed 000 二(七) 报告街道).

Counts only, never text: the example notes of an emerging-issue report are read separately
(``xinqiao.hotline.trends_views``) and pass :func:`anonymise` first.

Dimensions: ``category`` (a call's first-level problem categories, ``CallProblem.group``, a
call with several counts once in each; a message's ``category``), ``group`` (the caller's or
writer's target group), ``unit`` (the caller's or writer's street). Granularity: ``daily``
(one row per calendar day, Asia/Shanghai) or ``hourly`` (by hour of day 0–23 over the
period, the profile a roster is planned against).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractHour, TruncDate
from django.utils.translation import gettext as _

from xinqiao.hotline.categories import GROUPS
from xinqiao.hotline.models import Call, MailboxMessage
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import scope_paths

DIMENSIONS = ("category", "group", "unit")
GRANULARITIES = ("daily", "hourly")
KINDS = ("both", "calls", "messages")
PERIODS = (30, 90)


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in local time."""
    tz = zone()
    return (
        datetime.combine(start, time(0), tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz),
    )


def _paths_q(lookups: Sequence[str], paths: Sequence[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        for lookup in lookups:
            q |= Q(**{f"{lookup}__startswith": path})
    return q


def calls_in_scope(user: Any, action: Action = Action.TRENDS_VIEW) -> QuerySet[Call]:
    """Calls whose centre or caller's street is in the user's scope for ``action``."""
    paths = scope_paths(user, action)
    return Call.objects.filter(_paths_q(("centre__path", "area__path"), paths))


def messages_in_scope(user: Any, action: Action = Action.TRENDS_VIEW) -> QuerySet[MailboxMessage]:
    """Messages whose unit or writer's street is in the user's scope for ``action``."""
    paths = scope_paths(user, action)
    return MailboxMessage.objects.filter(_paths_q(("unit__path", "area__path"), paths))


def within_unit(
    calls: QuerySet[Call], messages: QuerySet[MailboxMessage], unit: Unit | None
) -> tuple[QuerySet[Call], QuerySet[MailboxMessage]]:
    """Narrow to one unit's subtree (a centre's calls, a street's callers)."""
    if unit is None:
        return calls, messages
    return (
        calls.filter(Q(centre__path__startswith=unit.path) | Q(area__path__startswith=unit.path)),
        messages.filter(Q(unit__path__startswith=unit.path) | Q(area__path__startswith=unit.path)),
    )


# --- counting ----------------------------------------------------------------------------

_CALL_KEY = {"category": "problems__group", "group": "caller_group", "unit": "area_id"}
_MESSAGE_KEY = {"category": "category", "group": "writer_group", "unit": "area_id"}


@dataclass
class Counts:
    """``cells[(bucket, key)] = n``; ``buckets`` are days (daily) or hours 0–23 (hourly)."""

    buckets: list[Any]
    keys: list[str]
    cells: dict[tuple[Any, str], int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def row(self, key: str) -> list[int]:
        return [self.cells.get((b, key), 0) for b in self.buckets]

    def total(self, key: str) -> int:
        return sum(self.row(key))

    def bucket_total(self, bucket: Any) -> int:
        return sum(self.cells.get((bucket, k), 0) for k in self.keys)


def _bucketed(
    queryset: QuerySet[Any], stamp: str, key: str, granularity: str
) -> Iterable[tuple[Any, str, int]]:
    tz = zone()
    bucket: ExtractHour | TruncDate
    if granularity == "hourly":
        bucket = ExtractHour(stamp, tzinfo=tz)
    else:
        bucket = TruncDate(stamp, tzinfo=tz)
    rows = (
        queryset.annotate(bucket=bucket)
        .values("bucket", key)
        .annotate(n=Count("id", distinct=True))
        .order_by()
    )
    for row in rows:
        value = row[key]
        yield row["bucket"], "" if value is None else str(value), int(row["n"])


def count(
    *,
    calls: QuerySet[Call],
    messages: QuerySet[MailboxMessage],
    start: date,
    end: date,
    dimension: str = "category",
    granularity: str = "daily",
    kind: str = "both",
) -> Counts:
    """Calls started and messages received from ``start`` to ``end`` (inclusive), counted by
    ``dimension`` in daily or hour-of-day buckets."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension: one of {', '.join(DIMENSIONS)}")
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity: one of {', '.join(GRANULARITIES)}")
    if kind not in KINDS:
        raise ValueError(f"kind: one of {', '.join(KINDS)}")
    since, until = day_bounds(start, end)
    if granularity == "hourly":
        buckets: list[Any] = list(range(24))
    else:
        buckets = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    cells: dict[tuple[Any, str], int] = defaultdict(int)
    if kind in ("both", "calls"):
        qs = calls.filter(started_at__gte=since, started_at__lt=until)
        for bucket, key, n in _bucketed(qs, "started_at", _CALL_KEY[dimension], granularity):
            cells[(bucket, key)] += n
    if kind in ("both", "messages"):
        qs2 = messages.filter(created_at__gte=since, created_at__lt=until)
        for bucket, key, n in _bucketed(qs2, "created_at", _MESSAGE_KEY[dimension], granularity):
            cells[(bucket, key)] += n
    labels = key_labels(dimension, {k for _b, k in cells})
    keys = sorted(
        labels,
        key=lambda k: (k == "", -sum(v for (_b, kk), v in cells.items() if kk == k), labels[k]),
    )
    return Counts(buckets=buckets, keys=keys, cells=dict(cells), labels=labels)


def key_labels(dimension: str, keys: Iterable[str]) -> dict[str, str]:
    """Display names of the keys of a dimension ("" = not recorded)."""
    from xinqiao.people.models import TargetGroup

    keys = set(keys)
    labels: dict[str, str] = {}
    if dimension == "unit":
        names = {str(u.pk): u.name for u in Unit.objects.filter(pk__in=[k for k in keys if k])}
    for key in keys:
        if not key:
            labels[key] = _("Not said") if dimension != "category" else _("No category recorded")
        elif dimension == "category":
            category = GROUPS.get(key)
            labels[key] = str(category.label) if category else key
        elif dimension == "group":
            try:
                labels[key] = str(TargetGroup(key).label)
            except ValueError:
                labels[key] = key
        else:
            labels[key] = names.get(key, key)
    return labels


# --- anonymising example notes -----------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Resident ID card (GB 11643-1999): 18 characters, the last a digit or X; the old 15-digit form.
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")
# Mainland mobile numbers (11 digits from 1[3-9]), landlines with an area code, and any other
# run of 7 or more digits (with spaces or dashes between): masked alike.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?\d(?:[\s-]?\d){6,}(?!\d)")
# A name said in the text: 姓王, 我叫张伟, 名叫…, 我是李娜 (one to three Han characters after
# the cue). It masks more than names (我是学生 → 我是[姓名]): wrongly masked words cost less
# than a name left in.
_NAME_CUE = re.compile(r"(?<!\[)(姓|名叫|叫做|叫|我是)([\u4e00-\u9fff]{1,3})")
MASK_NAME = "[姓名]"
MASK_PHONE = "[电话]"
MASK_ID = "[证件号]"
MASK_EMAIL = "[邮箱]"
EXAMPLE_LENGTH = 120


def anonymise(text: str, *, names: Sequence[str] = (), limit: int = EXAMPLE_LENGTH) -> str:
    """A note made fit to show as an example: e-mail addresses, ID numbers, phone numbers,
    names after 姓/叫/我是 and the given ``names`` (the linked person's) masked, whitespace
    collapsed, cut to ``limit`` characters. A pure function (no Django)."""
    out = " ".join((text or "").split())
    for name in sorted(
        {n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True
    ):
        out = out.replace(name, MASK_NAME)
    out = _EMAIL.sub(MASK_EMAIL, out)
    out = _ID_NUMBER.sub(MASK_ID, out)
    out = _PHONE.sub(MASK_PHONE, out)

    def cue(match: re.Match[str]) -> str:
        if match.group(1) == "姓":
            return "姓" + "某" + match.group(2)[1:]
        return match.group(1) + MASK_NAME

    out = _NAME_CUE.sub(cue, out)
    if len(out) > limit:
        out = out[: max(0, limit - 1)].rstrip() + "…"
    return out
