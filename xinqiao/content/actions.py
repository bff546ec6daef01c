"""Writes of articles and lessons (R-EDU; issue #8 item 3). Keyword-only, typed, one
transaction each, validation before any write; the status moves only through
``TRANSITIONS``; the change log (django-auditlog, registered in ``apps.py``) is attributed
with ``acting``. Bad input raises ``ValidationError`` naming the field; an article the user may
not change raises ``PermissionDenied`` (they can already see it) — views fetch it through
``access_article`` first, which answers 404 outside scope.

Articles hold no personal data (no person file is touched, so no timeline event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.audit.log import acting
from xinqiao.content.access import can_change, require_change
from xinqiao.content.media import max_media_bytes, sniff_file
from xinqiao.content.models import TRANSITIONS, Article, Kind, Status, Topic, join_codes
from xinqiao.content.sanitise import clean_html
from xinqiao.lib.storage import StorageFull, storage_full_message
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import TargetGroup

# An uploaded file (django's UploadedFile; typed loosely, the stubs make it generic).
Upload = Any


@dataclass
class ArticleText:
    """What an editor writes; bodies are sanitised on the way in."""

    title_zh: str = ""
    title_en: str = ""
    summary_zh: str = ""
    summary_en: str = ""
    body_zh: str = ""
    body_en: str = ""
    transcript_zh: str = ""
    transcript_en: str = ""
    topics: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    link_url: str = ""
    duration_minutes: int | None = None


def _validate_text(text: ArticleText, *, kind: str, has_media: bool) -> None:
    errors: dict[str, list[str]] = {}
    if not (text.title_zh.strip() or text.title_en.strip()):
        errors["title_zh"] = [_("Give a title in at least one language.")]
    unknown_topics = [t for t in text.topics if t not in Topic.values]
    if unknown_topics:
        errors["topics"] = [_("Unknown topic.")]
    if [g for g in text.groups if g not in TargetGroup.values]:
        errors["groups"] = [_("Unknown target group.")]
    link = text.link_url.strip()
    if link and not link.lower().startswith("https://"):
        errors["link_url"] = [_("A link must start with https://.")]
    if kind == Kind.LESSON:
        if not (text.transcript_zh.strip() or text.transcript_en.strip()):
            # Accessibility: a lesson is for those who cannot hear or watch it too (issue #8).
            errors["transcript_zh"] = [
                _("A lesson needs a transcript in at least one language (for accessibility).")
            ]
        if not has_media and not link:
            errors["media"] = [_("Upload a video or audio file, or give a link.")]
    if errors:
        raise ValidationError(errors)


def check_media(upload: Upload) -> tuple[str, str, str]:
    """(media kind, content type, extension) of an upload, or a ValidationError on ``media``:
    too large, or not a video or audio file whatever its name says (issue #8 bad input)."""
    if upload.size is None or upload.size > max_media_bytes():
        raise ValidationError(
            {
                "media": [
                    _("The file is too large: at most %(mb)d MB.")
                    % {"mb": max_media_bytes() // (1024 * 1024)}
                ]
            }
        )
    found = sniff_file(upload)
    if found is None:
        raise ValidationError(
            {
                "media": [
                    _(
                        "This file is not a video or audio file we can play (MP4, M4A, WebM, "
                        "Ogg, MP3, WAV or AAC)."
                    )
                ]
            }
        )
    return found.kind, found.content_type, found.extension


def _apply_text(article: Article, text: ArticleText) -> None:
    article.title_zh = text.title_zh.strip()
    article.title_en = text.title_en.strip()
    article.summary_zh = text.summary_zh.strip()
    article.summary_en = text.summary_en.strip()
    article.body_zh = clean_html(text.body_zh)
    article.body_en = clean_html(text.body_en)
    article.transcript_zh = text.transcript_zh.strip()
    article.transcript_en = text.transcript_en.strip()
    article.topics = join_codes(text.topics)
    article.groups = join_codes(text.groups)
    article.link_url = text.link_url.strip()
    article.duration_minutes = text.duration_minutes or None


def _store_media(article: Article, upload: Upload) -> str:
    """Save the upload as ``content/<article uuid>.<ext>`` (never the uploader's name);
    returns the previous file's name to delete after commit."""
    kind, content_type, extension = check_media(upload)
    previous = str(article.media.name or "") if article.media else ""
    upload.seek(0)
    try:
        article.media.save(f"{article.pk}.{extension}", upload, save=False)
    except StorageFull as exc:  # nothing of the file was kept (xinqiao/lib/storage.py)
        raise ValidationError({"media": [storage_full_message()]}) from exc
    article.media_kind = kind
    article.media_type = content_type
    article.media_size = int(upload.size or 0)
    return previous


def _save(article: Article, *, previous_media: str, new_media: bool) -> None:
    """full_clean and save in the caller's transaction; a failed save leaves no new file."""
    storage = article.media.storage
    try:
        article.full_clean()
        article.save()
    except Exception:
        if new_media and article.media:
            storage.delete(str(article.media.name))
        raise
    if previous_media and previous_media != article.media.name:
        transaction.on_commit(lambda: storage.delete(previous_media))


def create_article(
    *,
    acting_user: Any,
    unit: Unit,
    kind: str,
    text: ArticleText,
    media: Upload | None = None,
) -> Article:
    """A new draft for ``unit``'s portals (and the portals of every unit below it)."""
    if not can(acting_user, Action.CONTENT_EDIT, unit):
        raise PermissionDenied(_("You do not have permission to do this."))
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Unknown kind.")]})
    _validate_text(text, kind=kind, has_media=media is not None)
    article = Article(kind=kind, unit=unit, created_by=acting_user, updated_by=acting_user)
    _apply_text(article, text)
    with transaction.atomic(), acting(acting_user):
        new_media = False
        if media is not None and kind == Kind.LESSON:
            _store_media(article, media)
            new_media = True
        _save(article, previous_media="", new_media=new_media)
    return article


def update_article(
    *,
    acting_user: Any,
    article: Article,
    text: ArticleText,
    media: Upload | None = None,
    remove_media: bool = False,
) -> Article:
    """New text (and optionally a new file, or no file) for ``article``; status unchanged."""
    require_change(acting_user, article)
    has_media = media is not None or (bool(article.media) and not remove_media)
    _validate_text(text, kind=article.kind, has_media=has_media)
    with transaction.atomic(), acting(acting_user):
        article = Article.objects.select_for_update().get(pk=article.pk)
        _apply_text(article, text)
        previous = ""
        new_media = False
        if media is not None and article.is_lesson:
            previous = _store_media(article, media)
            new_media = True
        elif remove_media and article.media:
            previous = str(article.media.name or "")
            article.media = ""
            article.media_kind = ""
            article.media_type = ""
            article.media_size = 0
        article.updated_by = acting_user
        _save(article, previous_media=previous, new_media=new_media)
    return article


def _move(article: Article, to: str) -> None:
    if to not in TRANSITIONS.get(article.status, frozenset()):
        raise ValidationError(
            {
                "status": [
                    _("An article that is “%(from)s” cannot become “%(to)s”.")
                    % {"from": Status(article.status).label, "to": Status(to).label}
                ]
            }
        )
    article.status = to


def _transition(
    *, acting_user: Any, article: Article, to: str, publish_at: datetime | None
) -> Article:
    require_change(acting_user, article)
    with transaction.atomic(), acting(acting_user):
        article = Article.objects.select_for_update().get(pk=article.pk)
        _move(article, to)
        article.publish_at = publish_at if to in (Status.SCHEDULED, Status.PUBLISHED) else None
        if to == Status.DRAFT:
            article.publish_at = None
        article.updated_by = acting_user
        article.full_clean()
        article.save(update_fields=["status", "publish_at", "updated_by", "updated_at"])
    return article


def publish_article(*, acting_user: Any, article: Article, now: datetime | None = None) -> Article:
    """Live on the portals from now."""
    return _transition(
        acting_user=acting_user,
        article=article,
        to=Status.PUBLISHED,
        publish_at=now or timezone.now(),
    )


def schedule_article(*, acting_user: Any, article: Article, publish_at: datetime) -> Article:
    """Live on the portals from ``publish_at`` (in the future); no job needed, the portal
    computes visibility from status and time."""
    if timezone.is_naive(publish_at):
        raise ValidationError({"publish_at": [_("Give a date and time.")]})
    if publish_at <= timezone.now():
        raise ValidationError({"publish_at": [_("Choose a time in the future, or publish now.")]})
    return _transition(
        acting_user=acting_user, article=article, to=Status.SCHEDULED, publish_at=publish_at
    )


def withdraw_article(*, acting_user: Any, article: Article) -> Article:
    """Off the portals at once (its media too); the text stays for editors."""
    return _transition(
        acting_user=acting_user, article=article, to=Status.WITHDRAWN, publish_at=None
    )


def unpublish_to_draft(*, acting_user: Any, article: Article) -> Article:
    """Back to a draft (a scheduled or withdrawn article) to rework it."""
    return _transition(acting_user=acting_user, article=article, to=Status.DRAFT, publish_at=None)


__all__ = [
    "ArticleText",
    "can_change",
    "check_media",
    "create_article",
    "publish_article",
    "schedule_article",
    "unpublish_to_draft",
    "update_article",
    "withdraw_article",
]
