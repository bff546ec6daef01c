"""Education (R-EDU; issue #8 item 3): articles and micro-lessons for the public portal.

An article belongs to a unit (shown on the portals of that unit and every unit below it) or to
nobody (``unit`` NULL: built-in, platform-wide — the starter set). Text is kept per language
(Simplified Chinese and English); bodies are stored sanitised (``xinqiao.content.sanitise``).
A lesson has a media file (video or audio, served with range requests by ``content:media``) or
an https link, and a transcript in at least one language (accessibility, issue #8 item 3).

Publication is computed, not run by a job: a row is visible when its status is scheduled or
published and ``publish_at <= now``. ``ArticleStat`` counts views and completions per unit and
day; no visitor identity is ever stored (R-PRIVACY).
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xinqiao.people.models import TargetGroup


class Kind(models.TextChoices):
    ARTICLE = "article", _("Article")
    LESSON = "lesson", _("Micro-lesson")


class Topic(models.TextChoices):
    """Topics of issue #8 item 3 (plus emotions and children, R-EDU "emotions")."""

    SLEEP = "sleep", _("Sleep")
    ANXIETY = "anxiety", _("Anxiety")
    GRIEF = "grief", _("Grief")
    RELAXATION = "relaxation", _("Relaxation training")
    RETURN = "return", _("Returning to school or work")
    CAREGIVING = "caregiving", _("Caring for a family member")
    EMOTIONS = "emotions", _("Emotions")
    CHILDREN = "children", _("Children")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Allowed status changes; ``xinqiao.content.actions`` enforces them.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SCHEDULED, Status.PUBLISHED}),
    Status.SCHEDULED: frozenset({Status.DRAFT, Status.PUBLISHED, Status.WITHDRAWN}),
    Status.PUBLISHED: frozenset({Status.WITHDRAWN}),
    Status.WITHDRAWN: frozenset({Status.DRAFT, Status.SCHEDULED, Status.PUBLISHED}),
}

# Statuses that are visible once ``publish_at`` has come.
LIVE_STATUSES = (Status.SCHEDULED, Status.PUBLISHED)


class MediaKind(models.TextChoices):
    NONE = "", _("None")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")


def _codes(value: str) -> list[str]:
    return [part for part in (value or "").split(",") if part]


def join_codes(values: list[str] | tuple[str, ...]) -> str:
    """Multi-valued codes stored as ",a,b," so ``__contains=",a,"`` filters on any database."""
    values = [v for v in dict.fromkeys(values) if v]
    return f",{','.join(values)}," if values else ""


# Reading speed estimates for ``minutes``: about 300 Chinese characters or 200 English words a
# minute; listening to a transcript takes about as long.
_ZH_PER_MINUTE = 300
_EN_WORDS_PER_MINUTE = 200
_TAG = re.compile(r"<[^>]+>")


class Article(models.Model):
    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ARTICLE)
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text=_("Shown on the portals of this unit and every unit below it."),
    )
    builtin = models.SlugField(_("built-in name"), max_length=60, blank=True, default="")
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    summary_zh = models.CharField(_("summary (Chinese)"), max_length=400, blank=True)
    summary_en = models.CharField(_("summary (English)"), max_length=400, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    transcript_zh = models.TextField(_("transcript (Chinese)"), blank=True)
    transcript_en = models.TextField(_("transcript (English)"), blank=True)
    media = models.FileField(_("media file"), upload_to="content/", blank=True, max_length=200)
    media_kind = models.CharField(
        _("media kind"), max_length=8, choices=MediaKind.choices, blank=True, default=""
    )
    media_type = models.CharField(_("media content type"), max_length=60, blank=True)
    media_size = models.PositiveBigIntegerField(_("media size"), default=0)
    link_url = models.URLField(_("link"), max_length=500, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("length in minutes"), null=True, blank=True
    )
    topics = models.CharField(_("topics"), max_length=200, blank=True, default="")
    groups = models.CharField(_("target groups"), max_length=600, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-publish_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                name="content_article_has_title", condition=~Q(title_zh="") | ~Q(title_en="")
            ),
            # A lesson has its media: an uploaded file or a link (issue #8 item 3).
            models.CheckConstraint(
                name="content_lesson_has_media",
                condition=~Q(kind="lesson") | ~Q(media="") | ~Q(link_url=""),
            ),
            # A lesson has a transcript in at least one language (accessibility, issue #8).
            models.CheckConstraint(
                name="content_lesson_has_transcript",
                condition=~Q(kind="lesson") | ~Q(transcript_zh="") | ~Q(transcript_en=""),
            ),
            models.CheckConstraint(
                name="content_media_kind_matches_file",
                condition=(Q(media="") & Q(media_kind=""))
                | (~Q(media="") & Q(media_kind__in=["video", "audio"])),
            ),
            models.CheckConstraint(
                name="content_link_is_https",
                condition=Q(link_url="") | Q(link_url__startswith="https://"),
            ),
            # Scheduled and published rows know when they go (or went) live.
            models.CheckConstraint(
                name="content_live_has_publish_at",
                condition=~Q(status__in=["scheduled", "published"]) | Q(publish_at__isnull=False),
            ),
            models.CheckConstraint(
                name="content_status_valid",
                condition=Q(status__in=["draft", "scheduled", "published", "withdrawn"]),
            ),
            # Built-in articles are platform-wide and unique by their slug.
            models.CheckConstraint(
                name="content_builtin_has_no_unit",
                condition=Q(builtin="") | Q(unit__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["builtin"], condition=~Q(builtin=""), name="content_builtin_unique"
            ),
        ]
        indexes = [models.Index(fields=["status", "publish_at"])]

    def __str__(self) -> str:
        return self.title_zh or self.title_en

    # --- per-language text (lang "zh" or "en"; the other language when empty) ---------------
    def _pick(self, name: str, lang: str) -> str:
        first, second = ("en", "zh") if (lang or "").startswith("en") else ("zh", "en")
        return str(getattr(self, f"{name}_{first}") or getattr(self, f"{name}_{second}") or "")

    def title_for(self, lang: str) -> str:
        return self._pick("title", lang)

    def summary_for(self, lang: str) -> str:
        return self._pick("summary", lang)

    def body_html_for(self, lang: str) -> str:
        """Sanitised HTML (stored sanitised, sanitised again here: safe to mark safe)."""
        from xinqiao.content.sanitise import clean_html

        return clean_html(self._pick("body", lang))

    def transcript_for(self, lang: str) -> str:
        """Plain text; the template escapes it (``linebreaks``)."""
        return self._pick("transcript", lang)

    # --- what the portal shows -------------------------------------------------------------
    @property
    def is_lesson(self) -> bool:
        return self.kind == Kind.LESSON

    @property
    def is_builtin(self) -> bool:
        return bool(self.builtin)

    @property
    def media_url(self) -> str | None:
        if not self.media:
            return None
        return reverse("content:media", kwargs={"article_id": self.pk})

    @property
    def topic_list(self) -> list[str]:
        return _codes(self.topics)

    @property
    def group_list(self) -> list[str]:
        return _codes(self.groups)

    @property
    def topic_labels(self) -> list[str]:
        return [str(Topic(t).label) for t in self.topic_list if t in Topic.values]

    @property
    def group_labels(self) -> list[str]:
        return [str(TargetGroup(g).label) for g in self.group_list if g in TargetGroup.values]

    @property
    def minutes(self) -> int:
        """Reading or listening time in whole minutes (at least 1)."""
        if self.duration_minutes:
            return int(self.duration_minutes)
        zh = len(_TAG.sub("", self.body_zh + self.transcript_zh))
        en = len(_TAG.sub(" ", self.body_en + " " + self.transcript_en).split())
        return max(1, math.ceil(zh / _ZH_PER_MINUTE), math.ceil(en / _EN_WORDS_PER_MINUTE))

    def is_visible(self, now: Any) -> bool:
        return (
            self.status in LIVE_STATUSES and self.publish_at is not None and self.publish_at <= now
        )

    @property
    def shown_status(self) -> str:
        """ "Scheduled" until ``publish_at``, then "Published" (no job flips the status)."""
        from django.utils import timezone

        if self.status in LIVE_STATUSES:
            return str(
                Status.PUBLISHED.label
                if self.is_visible(timezone.now())
                else Status.SCHEDULED.label
            )
        return str(Status(self.status).label)


class ArticleStat(models.Model):
    """Views and completions of an article on one unit's portal on one day (no visitor data)."""

    id = models.BigAutoField(primary_key=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="stats")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    completions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "unit", "day"], name="content_stat_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {self.unit_id} {self.day}"
