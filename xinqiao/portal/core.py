"""The portal's own pages (issue #8 items 2 and 3): the city entry, a unit's home, the crisis
path ("I need help now" → the numbers, or leave a number for a call-back), the lessons and
articles (R-EDU), and the senior-mode switch.

Every page works without JavaScript: links and plain form POSTs (CSRF by the form's hidden
field). The crisis path never dead-ends: a wrong number re-shows the form with the field's
message and the phones; too many requests from one address get a kind 429 page that still
shows every number.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST

from xinqiao.audit.log import client_ip
from xinqiao.content.models import Topic
from xinqiao.content.public import find_published, published_for, record_completion, record_view
from xinqiao.hotline.callbacks import MAX_NOTE, request_callback
from xinqiao.hotline.mailbox_actions import ACCEPTING_KINDS
from xinqiao.hotline.models import CallbackSource
from xinqiao.lib.idempotency import idempotent
from xinqiao.lib.ratelimit import hit
from xinqiao.orgs.models import Unit
from xinqiao.portal import page
from xinqiao.portal.models import PortalPage
from xinqiao.portal.page import LARGE_TEXT_COOKIE, portal_view, render_portal

# Call-back requests one client address may leave per hour (R-CRISIS: a real person in
# distress leaves one or two; more is a script, which must not flood the hotline's queue).
CALLBACKS_PER_HOUR = settings.XINQIAO_CALLBACKS_PER_HOUR
# The senior-mode cookie lasts a year: an older visitor should not have to switch again.
LARGE_TEXT_MAX_AGE = 365 * 24 * 3600


def mailbox_unit(unit: Unit) -> Unit | None:
    """The unit whose mailbox the portal's "write to us" opens: the unit itself when it takes
    messages, else the nearest unit above it that does, else the hotline centre serving it."""
    if unit.kind in ACCEPTING_KINDS:
        return unit
    above = (
        unit.ancestors()
        .exclude(pk=unit.pk)
        .filter(kind__in=ACCEPTING_KINDS, is_active=True)
        .order_by("-depth")
        .first()
    )
    if above is not None:
        return above
    from xinqiao.hotline.callbacks import serving_centre

    centre = serving_centre(unit)
    return centre if centre.kind in ACCEPTING_KINDS and centre.is_active else None


def links(unit: Unit) -> dict[str, str | None]:
    ref = str(unit.pk)
    box = mailbox_unit(unit)
    return {
        "help": reverse("portal:help", args=[ref]),
        "assess": reverse("portal:assess", args=[ref]),
        "book": reverse("portal:book", args=[ref]),
        "me": reverse("portal:me", args=[ref]),
        "learn": reverse("portal:learn", args=[ref]),
        "mailbox": reverse("mailbox:write", args=[str(box.pk)]) if box is not None else None,
    }


def city(request: HttpRequest) -> HttpResponse:
    """``/p/``: the city portal (``?to=help`` goes straight to its crisis path)."""
    unit = page.city_unit()
    if unit is None:
        return render_portal(request, "portal/message.html", {"kind": "no_city"})
    name = "portal:help" if request.GET.get("to") == "help" else "portal:home"
    return redirect(name, str(unit.pk))


def _lang() -> str:
    return "en" if (get_language() or "zh-hans").startswith("en") else "zh"


def _item(article: Any, lang: str) -> dict[str, Any]:
    return {
        "pk": article.pk,
        "title": article.title_for(lang),
        "summary": article.summary_for(lang),
        "minutes": article.minutes,
        "is_lesson": article.is_lesson,
        "topics": article.topic_labels,
    }


def _featured(unit: Unit) -> list[dict[str, Any]]:
    lang = _lang()
    return [_item(a, lang) for a in published_for(unit)[:3]]


@portal_view(PortalPage.HOME, shared=True)
def home(request: HttpRequest, ref: str) -> HttpResponse:
    unit = request.portal.unit  # type: ignore[attr-defined]
    return render_portal(
        request, "portal/home.html", {"links": links(unit), "featured": _featured(unit)}
    )


def _help_page(
    request: HttpRequest, *, status: int = 200, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    return render_portal(
        request,
        "portal/help.html",
        {
            "errors": errors or {},
            "phone": request.POST.get("phone", "")[:40] if request.method == "POST" else "",
            "note": request.POST.get("note", "")[:MAX_NOTE] if request.method == "POST" else "",
            "max_note": MAX_NOTE,
            "limited": status == 429,
        },
        status=status,
    )


@portal_view(PortalPage.HELP)
@idempotent("portal.help")
@require_http_methods(["GET", "POST"])
def help_now(request: HttpRequest, ref: str) -> HttpResponse:
    """The crisis path (issue #8 item 2, R-CRISIS): the numbers first, then "leave your number
    and we will call you back" — an urgent item in the hotline's call-back queue."""
    if request.method != "POST":
        return _help_page(request)
    if not hit(
        cache,
        scope="portal-callback",
        subject=client_ip(request) or "unknown",
        limit=CALLBACKS_PER_HOUR,
        window_seconds=3600,
    ):
        response = _help_page(request, status=429)
        response["Retry-After"] = "3600"
        return response
    try:
        request_callback(
            unit=request.portal.unit,  # type: ignore[attr-defined]
            phone=request.POST.get("phone", ""),
            note=request.POST.get("note", ""),
            source=CallbackSource.CRISIS,
        )
    except ValidationError as error:
        return _help_page(request, status=400, errors=error.message_dict)
    return redirect("portal:help_sent", ref)


@portal_view(PortalPage.HELP)
def help_sent(request: HttpRequest, ref: str) -> HttpResponse:
    return render_portal(
        request,
        "portal/help_sent.html",
        {"minutes": settings.XINQIAO_CALLBACK_TARGET_MINUTES},
    )


@portal_view(PortalPage.LEARN, shared=True)
def learn(request: HttpRequest, ref: str) -> HttpResponse:
    """Lessons and articles live on this unit's portal (R-EDU), filtered by topic (GET links)."""
    unit = request.portal.unit  # type: ignore[attr-defined]
    topic = request.GET.get("topic", "")
    topic = topic if topic in Topic.values else ""
    lang = _lang()
    items = [_item(a, lang) for a in published_for(unit, topic=topic)[:100]]
    return render_portal(
        request,
        "portal/learn.html",
        {"items": items, "topic": topic, "topics": Topic.choices},
    )


@portal_view(PortalPage.LEARN)
@require_http_methods(["GET"])
def lesson(request: HttpRequest, ref: str, article_id: Any) -> HttpResponse:
    unit = request.portal.unit  # type: ignore[attr-defined]
    article = find_published(unit, article_id)
    if article is None:
        return render_portal(request, "portal/message.html", {"kind": "no_article"}, 404)
    record_view(article=article, unit=unit)
    return _lesson_page(request, article, done=request.GET.get("done") == "1")


def _lesson_page(request: HttpRequest, article: Any, *, done: bool) -> HttpResponse:
    lang = _lang()
    return render_portal(
        request,
        "portal/lesson.html",
        {
            "article": article,
            "title": article.title_for(lang),
            "summary": article.summary_for(lang),
            # Sanitised by the content app (bleach allow-list), safe to mark safe (R-EDU).
            "body": mark_safe(article.body_html_for(lang)),  # noqa: S308
            "transcript": article.transcript_for(lang),
            "done": done,
        },
    )


@portal_view(PortalPage.LEARN)
@require_POST
def lesson_done(request: HttpRequest, ref: str, article_id: Any) -> HttpResponse:
    """ "I finished this": one more completion for the unit (no trace of the visitor)."""
    unit = request.portal.unit  # type: ignore[attr-defined]
    article = find_published(unit, article_id)
    if article is None:
        return render_portal(request, "portal/message.html", {"kind": "no_article"}, 404)
    record_completion(article=article, unit=unit)
    return redirect(reverse("portal:lesson", args=[ref, article.pk]) + "?done=1")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
def text_size(request: HttpRequest, ref: str) -> HttpResponse:
    """The senior mode (issue #8 item 6): a cookie, then back to the page (a local path only)."""
    response = HttpResponseRedirect(_safe_next(request, reverse("portal:city")))
    if request.POST.get("large") == "1":
        response.set_cookie(
            LARGE_TEXT_COOKIE, "1", max_age=LARGE_TEXT_MAX_AGE, samesite="Lax", httponly=True
        )
    else:
        response.delete_cookie(LARGE_TEXT_COOKIE, samesite="Lax")
    return response


urlpatterns: list[URLPattern] = [
    path("", city, name="city"),
    path("<str:ref>/", home, name="home"),
    path("<str:ref>/help/", help_now, name="help"),
    path("<str:ref>/help/sent/", help_sent, name="help_sent"),
    path("<str:ref>/text-size", text_size, name="text_size"),
    path("<str:ref>/learn/", learn, name="learn"),
    path("<str:ref>/learn/<uuid:article_id>/", lesson, name="lesson"),
    path("<str:ref>/learn/<uuid:article_id>/done", lesson_done, name="lesson_done"),
]
