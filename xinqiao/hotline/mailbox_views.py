"""Staff pages of the worry mailbox (R-MAILBOX): the queue of the units in the user's scope
(high first, then medium, then oldest first) and a message's page — the thread with the triage
signals marked, claim, answer, category, release, close, and the writer's contact on request.

Triage sorts the queue; it never replaces a person reading every message (the banner says so).
Writer text is only ever escaped: signal marks are built by splitting the text into segments
here and letting the template escape each one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinqiao.hotline import mailbox_actions as actions
from xinqiao.hotline.categories import GROUPS
from xinqiao.hotline.mailbox_access import (
    access_message,
    log_contact_read,
    log_queue,
    log_read,
    messages_in_scope,
)
from xinqiao.hotline.mailbox_forms import AnswerForm, category_choices
from xinqiao.hotline.models import MailboxMessage, MessageKind, MessageStatus
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import TargetGroup

QUEUE_ROWS = 300
EXCERPT_CHARS = 60

# Labels of the triage signal kinds (xinqiao.hotline.triage); an unknown kind shows as is.
SIGNAL_LABELS: dict[str, Any] = {
    "suicide": gettext_lazy("Suicide"),
    "self_harm": gettext_lazy("Self-harm"),
    "harm_to_others": gettext_lazy("Harm to others"),
    "acute_distress": gettext_lazy("Acute distress"),
    "distress": gettext_lazy("Distress"),
    "abuse": gettext_lazy("Abuse or violence"),
}


def signal_label(kind: str) -> str:
    return str(SIGNAL_LABELS.get(kind, kind))


def segments(text: str, signals: list[dict[str, Any]], field: str = "body") -> list[dict[str, Any]]:
    """``text`` cut into plain and marked pieces by the signals found in ``field``. Spans are
    clamped to the text and overlapping ones merged; the pieces are plain strings that the
    template escapes (never marked safe)."""
    spans: list[tuple[int, int, str]] = []
    for signal in signals:
        if signal.get("field", "body") != field:
            continue
        try:
            start, end = (int(v) for v in signal.get("span", ())[:2])
        except (TypeError, ValueError):
            continue
        start, end = max(0, start), min(len(text), end)
        if end > start:
            spans.append((start, end, signal_label(str(signal.get("kind", "")))))
    spans.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, label in spans:
        if merged and start <= merged[-1][1]:
            last = merged[-1]
            labels = last[2] if label in last[2] else [*last[2], label]
            merged[-1] = (last[0], max(last[1], end), labels)
        else:
            merged.append((start, end, [label]))
    pieces: list[dict[str, Any]] = []
    at = 0
    for start, end, labels in merged:
        if start > at:
            pieces.append({"text": text[at:start], "mark": ""})
        pieces.append({"text": text[start:end], "mark": ", ".join(labels)})
        at = end
    if at < len(text):
        pieces.append({"text": text[at:], "mark": ""})
    return pieces


def _require_answerer(request: HttpRequest) -> None:
    if not can(request.user, Action.MAILBOX_ANSWER):
        raise Http404


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The messages of the units in scope: open ones by priority then age; or the closed."""
    _require_answerer(request)
    show = request.GET.get("show", "open")
    kind = request.GET.get("kind", "")
    rows = messages_in_scope(request.user)
    if show == "closed":
        rows = rows.filter(status=MessageStatus.CLOSED).order_by("-closed_at")
    elif show == "mine":
        rows = rows.filter(assigned_to_id=request.user.pk).exclude(status=MessageStatus.CLOSED)
    else:
        show = "open"
        rows = rows.exclude(status=MessageStatus.CLOSED)
    if kind in MessageKind.values:
        rows = rows.filter(kind=kind)
    else:
        kind = ""
    if show != "closed":
        rows = rows.order_by("priority", "created_at")
    entries = [
        {"m": m, "excerpt": Truncator(f"{m.subject} {m.body}".strip()).chars(EXCERPT_CHARS)}
        for m in rows[:QUEUE_ROWS]
    ]
    log_queue(request)
    return render(
        request,
        "hotline/mailbox/queue.html",
        {"rows": entries, "show": show, "kind": kind, "kinds": MessageKind.choices},
    )


def _detail(
    request: HttpRequest,
    message: MailboxMessage,
    *,
    errors: list[str] | None = None,
    answer_form: AnswerForm | None = None,
    show_contact: bool = False,
    status: int = 200,
) -> HttpResponse:
    replies = list(message.replies.select_related("author").order_by("created_at"))
    contact = actions.Contact.decode(message.contact) if show_contact else None
    return render(
        request,
        "hotline/mailbox/detail.html",
        {
            "m": message,
            "subject_pieces": segments(message.subject, message.signals, "subject"),
            "body_pieces": segments(message.body, message.signals, "body"),
            "signal_kinds": sorted({signal_label(str(s.get("kind", ""))) for s in message.signals}),
            "replies": replies,
            "errors": errors or [],
            "answer_form": answer_form or AnswerForm(),
            "categories": category_choices(),
            "category_label": GROUPS[message.category].label if message.category in GROUPS else "",
            "group_label": TargetGroup(message.writer_group).label
            if message.writer_group in TargetGroup.values
            else "",
            "has_contact": bool(message.contact),
            "contact": contact,
            "mine": message.assigned_to_id == request.user.pk,
            "can_open_alert": message.alert_id is not None
            and can(request.user, Action.ALERT_VIEW, message.unit),
            "open": message.status != MessageStatus.CLOSED,
        },
        status=status,
    )


@login_required
def detail(request: HttpRequest, message_id: Any) -> HttpResponse:
    message = access_message(request.user, message_id)
    log_read(request, message)
    return _detail(request, message)


@login_required
@require_POST
def contact(request: HttpRequest, message_id: Any) -> HttpResponse:
    """The writer's contact, for the one answering: every read is in the access log."""
    message = access_message(request.user, message_id)
    log_contact_read(request, message)
    return _detail(request, message, show_contact=True)


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _act(request: HttpRequest, message_id: Any, what: str) -> HttpResponse:
    message = access_message(request.user, message_id)
    try:
        if what == "claim":
            actions.claim(acting_user=request.user, message=message)
        elif what == "release":
            actions.release(acting_user=request.user, message=message)
        elif what == "close":
            actions.close(acting_user=request.user, message=message)
        elif what == "category":
            actions.set_category(
                acting_user=request.user,
                message=message,
                category=request.POST.get("category", ""),
            )
        else:
            form = AnswerForm(request.POST)
            if not form.is_valid():
                return _detail(request, message, answer_form=form, status=400)
            actions.answer(
                acting_user=request.user, message=message, body=form.cleaned_data["answer"]
            )
    except ValidationError as exc:
        message.refresh_from_db()
        return _detail(request, message, errors=_messages(exc), status=400)
    return redirect("hotline:mailbox_detail", message_id=message.pk)


@login_required
@require_POST
def claim(request: HttpRequest, message_id: Any) -> HttpResponse:
    return _act(request, message_id, "claim")


@login_required
@require_POST
def release(request: HttpRequest, message_id: Any) -> HttpResponse:
    return _act(request, message_id, "release")


@login_required
@require_POST
def answer(request: HttpRequest, message_id: Any) -> HttpResponse:
    return _act(request, message_id, "answer")


@login_required
@require_POST
def category(request: HttpRequest, message_id: Any) -> HttpResponse:
    return _act(request, message_id, "category")


@login_required
@require_POST
def close(request: HttpRequest, message_id: Any) -> HttpResponse:
    return _act(request, message_id, "close")


urlpatterns: list[URLPattern] = [
    path("mailbox/", queue, name="mailbox_queue"),
    path("mailbox/<uuid:message_id>/", detail, name="mailbox_detail"),
    path("mailbox/<uuid:message_id>/contact", contact, name="mailbox_contact"),
    path("mailbox/<uuid:message_id>/claim", claim, name="mailbox_claim"),
    path("mailbox/<uuid:message_id>/release", release, name="mailbox_release"),
    path("mailbox/<uuid:message_id>/answer", answer, name="mailbox_answer"),
    path("mailbox/<uuid:message_id>/category", category, name="mailbox_category"),
    path("mailbox/<uuid:message_id>/close", close, name="mailbox_close"),
]
