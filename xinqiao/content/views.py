"""Education staff pages (R-EDU; issue #8 item 3) and lesson media (``content:media``).

Editors (``Action.CONTENT_EDIT``) list, write, preview, publish, schedule and withdraw
articles and micro-lessons of the units in their scope, and see views and completions per
unit. Objects are fetched through ``access_article`` (404 outside scope); writes go through
``xinqiao.content.actions``. A lesson upload is refused before its body is read when the
declared size is over the limit, and stopped while it streams when the real size is
(``xinqiao.content.media``).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from xinqiao.content import actions
from xinqiao.content.access import (
    access_article,
    articles_in_scope,
    can_change,
    editable_units,
    require_change,
)
from xinqiao.content.forms import ArticleForm, FilterForm, LessonForm, ScheduleForm, initial_for
from xinqiao.content.media import (
    MediaSizeLimitHandler,
    max_media_bytes,
    serve_media,
    too_large_request,
)
from xinqiao.content.models import LIVE_STATUSES, Article, ArticleStat, Kind, Status
from xinqiao.lib.storage import add_storage_full_errors
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import require, scope_paths

PAGE_ROWS = 50
RECENT_DAYS = 30
# Form fields that carry an action's error under another name.
ERROR_FIELDS = {"media": "media_file"}


# --- media ------------------------------------------------------------------------------------
@require_safe
def media(request: HttpRequest, article_id: uuid.UUID) -> HttpResponseBase:
    """The lesson's file with range support. A published lesson's media is public by design
    (the portal needs no account); a draft's or a withdrawn one's only for editors in scope
    (anonymous: the sign-in page; others: 404)."""
    article = Article.objects.filter(pk=article_id).exclude(media="").first()
    public = article is not None and article.is_visible(timezone.now())
    if not public:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        article = access_article(request.user, article_id)
        if not article.media:
            raise Http404
    if article is None:  # for the type checker: handled above
        raise Http404
    response = serve_media(request, article.media, article.media_type or "application/octet-stream")
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response


# --- helpers ----------------------------------------------------------------------------------
def _add_errors(form: Any, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        target = ERROR_FIELDS.get(name, name)
        form.add_error(target if target in form.fields else None, errors)


def _lang(request: HttpRequest) -> str:
    wanted = request.GET.get("lang") or get_language() or "zh-hans"
    return "en" if wanted.startswith("en") else "zh"


def _show(value: int) -> str:
    """A count for the statistics tables: small non-zero counts shown as "<N" (N the
    small-cell threshold, R-REPORT), so a rare topic in a small unit does not stand out."""
    threshold = int(settings.XINQIAO_SMALL_CELL_THRESHOLD)
    if 0 < value < threshold:
        return f"<{threshold}"
    return str(value)


def _stat_scope(user: Any) -> Q:
    paths = scope_paths(user, Action.CONTENT_EDIT)
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(unit__path__startswith=path)
    return q


def _totals(rows: Any) -> Any:
    since = timezone.localdate() - timedelta(days=RECENT_DAYS - 1)
    return rows.annotate(
        views_all=Sum("views"),
        completions_all=Sum("completions"),
        views_recent=Sum("views", filter=Q(day__gte=since)),
        completions_recent=Sum("completions", filter=Q(day__gte=since)),
    )


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("views_all", "completions_all", "views_recent", "completions_recent"):
        row[key] = _show(int(row.get(key) or 0))
    return row


# --- list -------------------------------------------------------------------------------------
def _with_status(rows: Any, status: str) -> Any:
    """Filter by the status shown: a scheduled article whose time has come is published."""
    now = timezone.now()
    if status == Status.PUBLISHED:
        return rows.filter(status__in=LIVE_STATUSES, publish_at__lte=now)
    if status == Status.SCHEDULED:
        return rows.filter(status__in=LIVE_STATUSES, publish_at__gt=now)
    return rows.filter(status=status)


@login_required
@require_safe
def article_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.CONTENT_EDIT)
    filters = FilterForm(request.GET or None)
    rows = articles_in_scope(request.user).order_by("-updated_at")
    if filters.is_valid():
        data = filters.cleaned_data
        if data["kind"]:
            rows = rows.filter(kind=data["kind"])
        if data["status"]:
            rows = _with_status(rows, data["status"])
        if data["topic"]:
            rows = rows.filter(topics__contains=f",{data['topic']},")
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    return render(
        request,
        "content/list.html",
        {"page": page, "filters": filters, "lang": _lang(request)},
    )


# --- new and edit -----------------------------------------------------------------------------
def _form_class(kind: str) -> type[ArticleForm]:
    return LessonForm if kind == Kind.LESSON else ArticleForm


def _refuse_large(request: HttpRequest, kind: str, article: Article | None) -> HttpResponse:
    """Render the form with the size error, without reading the request body."""
    units = list(editable_units(request.user))
    kwargs: dict[str, Any] = {"units": units, "show_unit": article is None}
    if kind == Kind.LESSON:
        kwargs["has_media"] = bool(article and article.media)
    form = _form_class(kind)(initial=initial_for(article) if article else None, **kwargs)
    message = _("The file is too large: at most %(mb)d MB. Nothing was saved.") % {
        "mb": max_media_bytes() // (1024 * 1024)
    }
    context = {"form": form, "kind": kind, "article": article, "size_error": message}
    return render(request, "content/form.html", context, status=413)


@csrf_exempt
@login_required
def new_article(request: HttpRequest) -> HttpResponse:
    return _guarded(request, Kind.ARTICLE, None)


@csrf_exempt
@login_required
def new_lesson(request: HttpRequest) -> HttpResponse:
    return _guarded(request, Kind.LESSON, None)


@csrf_exempt
@login_required
def edit(request: HttpRequest, article_id: uuid.UUID) -> HttpResponse:
    article = access_article(request.user, article_id)
    return _guarded(request, article.kind, article)


def _guarded(request: HttpRequest, kind: str, article: Article | None) -> HttpResponse:
    """Size checks before anything reads the body, then the CSRF check, then the form."""
    if article is None:
        require(request.user, Action.CONTENT_EDIT)
    else:
        require_change(request.user, article)
    handler = None
    if request.method == "POST":
        if too_large_request(request):
            return _refuse_large(request, kind, article)
        handler = MediaSizeLimitHandler(request)
        request.upload_handlers.insert(0, handler)
    return _form_view(request, kind, article, handler)


@csrf_protect
def _form_view(
    request: HttpRequest,
    kind: str,
    article: Article | None,
    handler: MediaSizeLimitHandler | None,
) -> HttpResponse:
    units = list(editable_units(request.user))
    if article is None and not units:
        raise Http404
    form_class = _form_class(kind)
    kwargs: dict[str, Any] = {"units": units, "show_unit": article is None}
    if kind == Kind.LESSON:
        kwargs["has_media"] = bool(article and article.media)
    if request.method != "POST":
        form = form_class(initial=initial_for(article) if article else None, **kwargs)
        return render(
            request, "content/form.html", {"form": form, "kind": kind, "article": article}
        )
    form = form_class(request.POST, request.FILES, **kwargs)
    if handler is not None and handler.exceeded:
        form.is_valid()
        form.add_error(
            "media_file" if "media_file" in form.fields else None,
            _("The file is too large: at most %(mb)d MB.")
            % {"mb": max_media_bytes() // (1024 * 1024)},
        )
    elif add_storage_full_errors(request, form):
        pass  # the disk was full while the file streamed in; the form says so on its field
    elif form.is_valid():
        upload = form.cleaned_data.get("media_file")
        try:
            if article is None:
                unit = Unit.objects.get(pk=form.cleaned_data["unit"])
                saved = actions.create_article(
                    acting_user=request.user, unit=unit, kind=kind, text=form.text(), media=upload
                )
            else:
                saved = actions.update_article(
                    acting_user=request.user,
                    article=article,
                    text=form.text(),
                    media=upload,
                    remove_media=bool(form.cleaned_data.get("remove_media")),
                )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("content:detail", article_id=saved.pk)
    return render(
        request,
        "content/form.html",
        {"form": form, "kind": kind, "article": article},
        status=400,
    )


# --- preview, status --------------------------------------------------------------------------
@login_required
@require_safe
def detail(request: HttpRequest, article_id: uuid.UUID) -> HttpResponse:
    article = access_article(request.user, article_id)
    return _detail(request, article, ScheduleForm(), status=200)


def _detail(
    request: HttpRequest, article: Article, schedule: ScheduleForm, *, status: int, error: str = ""
) -> HttpResponse:
    lang = _lang(request)
    allowed = Status(article.status)
    return render(
        request,
        "content/detail.html",
        {
            "article": article,
            "lang": lang,
            "body_html": article.body_html_for(lang),
            "can_change": can_change(request.user, article),
            "next_statuses": sorted(actions_for(allowed)),
            "schedule_form": schedule,
            "error": error,
        },
        status=status,
    )


def actions_for(status: Status) -> set[str]:
    from xinqiao.content.models import TRANSITIONS

    return set(TRANSITIONS.get(status, frozenset()))


def _status_change(request: HttpRequest, article_id: uuid.UUID, what: str) -> HttpResponse:
    article = access_article(request.user, article_id)
    require_change(request.user, article)
    schedule = ScheduleForm()
    try:
        if what == "publish":
            actions.publish_article(acting_user=request.user, article=article)
        elif what == "withdraw":
            actions.withdraw_article(acting_user=request.user, article=article)
        elif what == "draft":
            actions.unpublish_to_draft(acting_user=request.user, article=article)
        else:
            schedule = ScheduleForm(request.POST)
            if not schedule.is_valid():
                return _detail(request, article, schedule, status=400)
            actions.schedule_article(
                acting_user=request.user,
                article=article,
                publish_at=schedule.cleaned_data["publish_at"],
            )
    except ValidationError as exc:
        if what == "schedule" and hasattr(exc, "error_dict") and "publish_at" in exc.error_dict:
            _add_errors(schedule, exc)
            return _detail(request, article, schedule, status=400)
        return _detail(request, article, schedule, status=400, error=" ".join(exc.messages))
    return redirect("content:detail", article_id=article.pk)


@login_required
@require_POST
def publish(request: HttpRequest, article_id: uuid.UUID) -> HttpResponse:
    return _status_change(request, article_id, "publish")


@login_required
@require_POST
def schedule(request: HttpRequest, article_id: uuid.UUID) -> HttpResponse:
    return _status_change(request, article_id, "schedule")


@login_required
@require_POST
def withdraw(request: HttpRequest, article_id: uuid.UUID) -> HttpResponse:
    return _status_change(request, article_id, "withdraw")


@login_required
@require_POST
def to_draft(request: HttpRequest, article_id: uuid.UUID) -> HttpResponse:
    return _status_change(request, article_id, "draft")


# --- statistics -------------------------------------------------------------------------------
@login_required
@require_safe
def stats(request: HttpRequest, article_id: uuid.UUID) -> HttpResponse:
    """Views and completions of one article per unit in the user's scope."""
    article = access_article(request.user, article_id)
    rows = ArticleStat.objects.filter(_stat_scope(request.user), article=article)
    per_unit = [
        _shown(row)
        for row in _totals(rows.values("unit__name", "unit__path")).order_by("unit__path")
    ]
    since = timezone.localdate() - timedelta(days=RECENT_DAYS - 1)
    total = _shown(
        rows.aggregate(
            views_all=Sum("views"),
            completions_all=Sum("completions"),
            views_recent=Sum("views", filter=Q(day__gte=since)),
            completions_recent=Sum("completions", filter=Q(day__gte=since)),
        )
    )
    return render(
        request,
        "content/stats.html",
        {
            "article": article,
            "lang": _lang(request),
            "rows": per_unit,
            "total": total,
            "days": RECENT_DAYS,
            "threshold": settings.XINQIAO_SMALL_CELL_THRESHOLD,
        },
    )


@login_required
@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    """Education reach in the user's scope: per unit and per article (R-REPORT, R-EDU)."""
    require(request.user, Action.CONTENT_EDIT)
    rows = ArticleStat.objects.filter(_stat_scope(request.user))
    per_unit = [
        _shown(row)
        for row in _totals(rows.values("unit__name", "unit__path")).order_by("unit__path")
    ]
    visible = articles_in_scope(request.user).values("pk")
    per_article = [
        _shown(row)
        for row in _totals(
            rows.filter(article__in=visible).values(
                "article_id", "article__title_zh", "article__title_en"
            )
        ).order_by("-views_all")[:100]
    ]
    return render(
        request,
        "content/overview.html",
        {
            "per_unit": per_unit,
            "per_article": per_article,
            "days": RECENT_DAYS,
            "threshold": settings.XINQIAO_SMALL_CELL_THRESHOLD,
            "lang": _lang(request),
        },
    )
