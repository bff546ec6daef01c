"""Public pages of the worry mailbox and online consultation (no login), mounted at /mailbox/.

``/mailbox/<unit code or id>/`` — write to the unit, anonymously or with a contact; the page
after sending shows the reference code once. ``/mailbox/reply/`` — the writer enters the code
(POST only, never in the URL) and reads the thread, and may write again until it is closed.
The triage result is never shown to the writer. Every text is shown escaped (autoescape,
never ``|safe``). Sending is rate-limited per client address per hour and per day; code
entries per address per ten minutes (429 with a message in the writer's language). Pages are
never cached and send no referrer to other sites.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache

from xinqiao.audit.log import client_ip
from xinqiao.hotline import mailbox_actions as actions
from xinqiao.hotline.mailbox_forms import CodeForm, FollowUpForm, WriteForm
from xinqiao.hotline.models import MailboxMessage, MessageStatus
from xinqiao.lib.idempotency import Replay, idempotent, remember
from xinqiao.lib.ratelimit import hit
from xinqiao.portal.accounts import current_account, remember_message

app_name = "mailbox"

# Messages and follow-ups one client address may send; code entries it may try.
WRITES_PER_HOUR = settings.XINQIAO_MAILBOX_WRITES_PER_HOUR
WRITES_PER_DAY = settings.XINQIAO_MAILBOX_WRITES_PER_DAY
CODE_TRIES_PER_10_MIN = settings.XINQIAO_MAILBOX_CODE_TRIES_PER_10_MIN


def _private(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """No caching, no referrer to other sites: a message page must not leak through a shared
    phone's cache or to another site. ("no-referrer" would also make browsers send
    ``Origin: null`` with the page's own form posts, which the CSRF check rightly refuses: the
    mailbox could not be written to from a real browser.)"""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        return response

    return never_cache(wrapped)


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context["hotline_number"] = settings.XINQIAO_HOTLINE_NUMBER
    return render(request, f"hotline/mailbox/public/{template}", context, status=status)


def _subject(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _limited(request: HttpRequest, what: str, retry_after: int) -> HttpResponse:
    response = _page(request, "limited.html", {"what": what}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _may_write(request: HttpRequest) -> HttpResponse | None:
    """Count one message from this address; a 429 page past the hourly or daily limit."""
    subject = _subject(request)
    if not hit(
        cache, scope="mailbox-h", subject=subject, limit=WRITES_PER_HOUR, window_seconds=3600
    ):
        return _limited(request, "hour", 3600)
    if not hit(
        cache, scope="mailbox-d", subject=subject, limit=WRITES_PER_DAY, window_seconds=86400
    ):
        return _limited(request, "day", 86400)
    return None


def _may_try_code(request: HttpRequest) -> HttpResponse | None:
    if not hit(
        cache,
        scope="mailbox-code",
        subject=_subject(request),
        limit=CODE_TRIES_PER_10_MIN,
        window_seconds=600,
    ):
        return _limited(request, "code", 600)
    return None


def _field_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def _sent_again(request: HttpRequest, replay: Replay, code: str) -> HttpResponse:
    """A retried send (same idempotency key): the page after sending, with the reference code
    (sealed in the key's row), without sending again."""
    unit = actions.find_unit(code)
    message = replay.object()
    if message is None or not replay.secret:
        form = WriteForm(streets=actions.streets_for(unit))
        return _page(request, "write.html", {"unit": unit, "form": form})
    context = {"unit": unit, "message": message, "reference": replay.secret}
    return _page(request, "sent.html", context)


@_private
@idempotent("mailbox.write", replay=_sent_again)
def write(request: HttpRequest, code: str) -> HttpResponse:
    """Write to the unit's worry mailbox or ask for an online consultation."""
    unit = actions.find_unit(code)
    streets = actions.streets_for(unit)
    if request.method != "POST":
        form = WriteForm(streets=streets)
        return _page(request, "write.html", {"unit": unit, "form": form})
    form = WriteForm(request.POST, streets=streets)
    if not form.is_valid():
        return _page(request, "write.html", {"unit": unit, "form": form}, status=400)
    limited = _may_write(request)
    if limited:
        return limited
    data = form.cleaned_data
    try:
        message, reference = actions.submit(
            unit=unit,
            kind=data["kind"],
            body=data["body"],
            subject=data.get("subject") or "",
            contact=form.contact(),
            age_band=data.get("age_band") or "unknown",
            writer_group=data.get("writer_group") or "",
            area=form.area_unit(),
        )
    except ValidationError as exc:
        _field_errors(form, exc)
        return _page(request, "write.html", {"unit": unit, "form": form}, status=400)
    # Issue #8: written while signed in to a portal light account → on the writer's "my page".
    account = current_account(request)
    if account is not None:
        remember_message(account=account, message=message)
    remember(request, obj=message, secret=reference)
    return _page(request, "sent.html", {"unit": unit, "message": message, "reference": reference})


def _thread_page(
    request: HttpRequest,
    message: MailboxMessage,
    reference: str,
    form: FollowUpForm | None = None,
    *,
    sent: bool = False,
    status: int = 200,
) -> HttpResponse:
    closed = message.status == MessageStatus.CLOSED
    return _page(
        request,
        "thread.html",
        {
            "message": message,
            "unit": message.unit,
            "entries": actions.thread(message),
            "reference": reference,
            "closed": closed,
            "waiting": message.status in (MessageStatus.QUEUED, MessageStatus.IN_PROGRESS),
            "form": None if closed else (form or FollowUpForm()),
            "sent": sent,
        },
        status=status,
    )


def _followed_up_again(request: HttpRequest, replay: Replay) -> HttpResponse:
    """A retried follow-up (same idempotency key): the thread as after sending, once."""
    form = CodeForm(request.POST)
    message = actions.find_thread(form.cleaned_data["code"]) if form.is_valid() else None
    if message is None:
        return _page(request, "code.html", {"form": CodeForm()})
    return _thread_page(request, message, form.cleaned_data["code"], sent=True)


@_private
@idempotent("mailbox.reply", replay=_followed_up_again)
def reply(request: HttpRequest) -> HttpResponse:
    """Come back with the reference code: the thread, and writing again."""
    if request.method != "POST":
        return _page(request, "code.html", {"form": CodeForm()})
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _page(request, "code.html", {"form": form}, status=400)
    limited = _may_try_code(request)
    if limited:
        return limited
    reference = form.cleaned_data["code"]
    message = actions.find_thread(reference)
    if message is None:
        # The same answer for a malformed, a wrong and an expired code.
        return _page(request, "code.html", {"form": CodeForm(), "not_found": True}, status=404)
    if "body" not in request.POST:
        return _thread_page(request, message, reference)
    follow = FollowUpForm(request.POST)
    if message.status == MessageStatus.CLOSED:
        return _thread_page(request, message, reference, status=409)
    if not follow.is_valid():
        return _thread_page(request, message, reference, follow, status=400)
    limited = _may_write(request)
    if limited:
        return limited
    try:
        actions.follow_up(message=message, body=follow.cleaned_data["body"])
    except ValidationError as exc:
        _field_errors(follow, exc)
        message.refresh_from_db()
        return _thread_page(request, message, reference, follow, status=400)
    message.refresh_from_db()
    remember(request, obj=message)
    return _thread_page(request, message, reference, sent=True)


urlpatterns: list[URLPattern] = [
    path("reply/", reply, name="reply"),
    path("<str:code>/", write, name="write"),
]
