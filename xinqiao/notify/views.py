"""The inbox, the unread badge and the user's notification settings: each user's own only.

Notification ids travel in POST bodies, not in URLs: nothing here is a page of its own, and
every id is looked up among the user's own notifications (404 otherwise)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from xinqiao.notify import actions
from xinqiao.notify.access import access_notification, inbox_of, unread_count
from xinqiao.notify.channels import enabled_channels
from xinqiao.notify.forms import PreferenceForm
from xinqiao.notify.models import Channel, NotificationStatus, NotifyPreference
from xinqiao.workbench.forms import submit


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _not_activity(view: Any) -> Any:
    """For requests a page makes by itself (the badge's poll): they do not count as the user
    being active, so a tab left open does not keep its session alive past
    XINQIAO_SESSION_TIMEOUT. The session is read but not saved again (SessionMiddleware
    leaves the response alone when the request has no session any more)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = view(request, *args, **kwargs)
        session = getattr(request, "session", None)
        if session is not None and not session.modified:
            del request.session
        return response

    return wrapped


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("notify:inbox")


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    notifications = inbox_of(request.user)
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        notifications = notifications.filter(status=NotificationStatus.SENT)
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    # The unread count is the header badge's (notify_unread, counted once per request).
    return render(request, "notify/inbox.html", {"page": page, "only_unread": only_unread})


@require_GET
@_not_activity
def badge(request: HtmxHttpRequest) -> HttpResponse:
    """The header's unread badge, polled by HTMX. A poll after the session has ended reloads
    the page, which then asks the visitor to sign in (nothing stays on an unattended screen)."""
    if not request.user.is_authenticated:
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return redirect_to_login(request.get_full_path())
    return render(request, "notify/_badge.html", {"count": unread_count(request.user)})


@login_required
@require_POST
def read(request: HtmxHttpRequest) -> HttpResponse:
    notification = access_notification(request.user, request.POST.get("notification"))
    notification = actions.mark_read(user=request.user, notification=notification)
    if request.htmx:  # the row, and the header's badge swapped out of band
        return render(
            request,
            "notify/_read.html",
            {"n": notification, "count": unread_count(request.user), "oob": True},
        )
    return _back(request)


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    actions.mark_all_read(user=request.user)
    return _back(request)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    channels = enabled_channels()
    current = NotifyPreference.objects.filter(user=user).first() or NotifyPreference(user=user)
    initial = {
        "mobile": current.mobile,
        "by_email": current.by_email,
        "by_sms": current.by_sms and bool(current.mobile),  # ticked once there is a number
        "by_webhook": current.by_webhook,
    }
    form = PreferenceForm(request.POST or None, initial=initial, channels=channels)
    saved = submit(
        request,
        form,
        lambda data: actions.set_preferences(
            user=user,
            mobile=data.get("mobile", current.mobile),
            by_email=data.get("by_email", current.by_email),
            by_sms=data.get("by_sms", current.by_sms),
            by_webhook=data.get("by_webhook", current.by_webhook),
        ),
        _("Notification settings saved."),
    )
    if saved is not None:
        return redirect("notify:preferences")
    return render(
        request,
        "notify/preferences.html",
        {
            "form": form,
            "channels": [Channel(c).label for c in channels],
            "email": user.email,
            "email_on": Channel.EMAIL in channels,
        },
    )
