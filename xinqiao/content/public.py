"""What the public portal reads from the education app (issue #8 items 2–3, R-EDU).

The portal never sees a draft: ``published_for`` answers only what is live now on a unit's
portal — status scheduled or published with ``publish_at`` passed (scheduled publication needs
no job), owned by the unit itself, a unit above it, or nobody (built-in, platform-wide). Views
and completions are counted per article, unit and day, race-safe with F(); nothing about the
visitor is stored (R-PRIVACY).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from xinqiao.content.models import LIVE_STATUSES, Article, ArticleStat, Kind, Topic
from xinqiao.orgs.models import Unit

__all__ = [
    "Article",
    "Kind",
    "Topic",
    "find_published",
    "published_for",
    "record_completion",
    "record_view",
]


def published_for(
    unit: Unit,
    *,
    topic: str = "",
    group: str = "",
    kind: str = "",
    now: datetime | None = None,
) -> QuerySet[Article]:
    """Articles and lessons live on ``unit``'s portal now: local ones first, newest first.
    An unknown topic, group or kind gives an empty list (never an error)."""
    now = now or timezone.now()
    queryset = Article.objects.filter(
        Q(unit__isnull=True) | Q(unit__path__in=unit.ancestor_paths()),
        status__in=LIVE_STATUSES,
        publish_at__lte=now,
    )
    if topic:
        queryset = queryset.filter(topics__contains=f",{topic},")
    if group:
        queryset = queryset.filter(groups__contains=f",{group},")
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.annotate(
        _builtin=Case(
            When(unit__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("_builtin", "-publish_at", "-created_at")


def find_published(unit: Unit, article_id: Any) -> Article | None:
    """The article if it is live on ``unit``'s portal now; None otherwise (also for a bad id)."""
    try:
        pk = uuid.UUID(str(article_id))
    except (TypeError, ValueError):
        return None
    return published_for(unit).filter(pk=pk).first()


def _count(article: Article, unit: Unit, field: str) -> None:
    from xinqiao.reports.sources_services import article_stat_counted

    day = timezone.localdate()
    rows = ArticleStat.objects.filter(article=article, unit=unit, day=day)
    if rows.update(**{field: F(field) + 1}):
        # QuerySet.update sends no signal: mark the unit's day for the aggregate tables.
        article_stat_counted(unit.pk, day)
        return
    try:
        with transaction.atomic():
            ArticleStat.objects.create(article=article, unit=unit, day=day, **{field: 1})
    except IntegrityError:  # created by a concurrent request a moment ago
        rows.update(**{field: F(field) + 1})
        article_stat_counted(unit.pk, day)


def record_view(*, article: Article, unit: Unit) -> None:
    """One more view of ``article`` on ``unit``'s portal today."""
    _count(article, unit, "views")


def record_completion(*, article: Article, unit: Unit) -> None:
    """One more visitor read or listened to the end ("I finished" on the portal)."""
    _count(article, unit, "completions")
