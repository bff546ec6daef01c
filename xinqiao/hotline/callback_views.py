"""The call-back queue (issue #8 item 2, R-CRISIS): numbers left on the portal's crisis path or
after a severe self-assessment result, waiting for a hotline operator to call.

Who: ``Action.CALLBACK_TAKE`` (operators, counsellors); which: requests whose hotline centre or
portal unit is within the user's units (``callbacks_in_scope``; 404 outside, ``access_callback``).
The number is shown only on the detail page, and every such read is written to the access log
(ids only). Transitions go through ``xinqiao.hotline.callbacks`` (row-locked, TRANSITIONS).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_POST

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.hotline import callbacks as actions
from xinqiao.hotline.models import CallbackRequest, CallbackStatus
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import get_or_404, scope_paths

OPEN = (CallbackStatus.WAITING, CallbackStatus.CALLING)


def callbacks_in_scope(user: Any) -> QuerySet[CallbackRequest]:
    """Requests whose centre or portal unit lies in a subtree where ``user`` takes call-backs."""
    paths = scope_paths(user, Action.CALLBACK_TAKE)
    if not paths:
        return CallbackRequest.objects.none()
    q = Q()
    for root in paths:
        q |= Q(centre__path__startswith=root) | Q(unit__path__startswith=root)
    return CallbackRequest.objects.filter(q).select_related(
        "unit", "centre", "taken_by", "assessment", "call"
    )


def access_callback(user: Any, callback_id: Any) -> CallbackRequest:
    """The request, if in ``user``'s call-back scope; 404 otherwise."""
    return get_or_404(callbacks_in_scope(user), callback_id)


def waiting_count(user: Any) -> int:
    return callbacks_in_scope(user).filter(status=CallbackStatus.WAITING).count()


def _minutes(since: Any, now: Any) -> int:
    return max(0, int((now - since).total_seconds() // 60))


def _assessment_facts(callback: CallbackRequest) -> dict[str, Any] | None:
    assessment = callback.assessment
    if assessment is None:
        return None
    band = assessment.band
    zh = (translation.get_language() or "zh-hans").startswith("zh")
    return {
        "instrument": assessment.instrument,
        "score": assessment.total,
        "band": (band.zh if zh else band.en) if band is not None else assessment.band_code,
        "critical": bool(assessment.critical_items),
    }


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Waiting and being called first, oldest first; then the last closed ones."""
    if not scope_paths(request.user, Action.CALLBACK_TAKE):
        raise Http404
    scoped = callbacks_in_scope(request.user)
    now = timezone.now()
    target = settings.XINQIAO_CALLBACK_TARGET_MINUTES
    open_rows = scoped.filter(status__in=OPEN).order_by("created_at")
    rows = []
    for callback in open_rows[:200]:
        waited = _minutes(callback.created_at, now)
        rows.append(
            {
                "callback": callback,
                "waited": waited,
                "late": waited > target,
                "assessment": _assessment_facts(callback),
            }
        )
    closed = list(scoped.exclude(status__in=OPEN).order_by("-closed_at", "-created_at")[:20])
    return render(
        request,
        "hotline/callbacks/queue.html",
        {"rows": rows, "closed": closed, "target": target},
    )


@login_required
def detail(request: HttpRequest, callback_id: Any) -> HttpResponse:
    callback = access_callback(request.user, callback_id)
    # The number and the note are personal data: every read is logged (ids only, R-PRIVACY).
    log_access(
        request,
        callback,
        kind=AccessKind.VIEW,
        object_type="hotline.callbackrequest",
        reason="call-back number",
        unit_path=(callback.centre or callback.unit).path,
    )
    now = timezone.now()
    waited = _minutes(callback.created_at, now)
    return render(
        request,
        "hotline/callbacks/detail.html",
        {
            "callback": callback,
            "phone": str(callback.phone),
            "note": str(callback.note),
            "outcome": str(callback.outcome),
            "waited": waited,
            "late": callback.status in OPEN and waited > settings.XINQIAO_CALLBACK_TARGET_MINUTES,
            "assessment": _assessment_facts(callback),
            "mine": callback.taken_by_id == request.user.pk,
            "error": request.GET.get("error") == "1",
            "call_url": reverse("hotline:call_new") + f"?callback={callback.pk}",
            "max_attempts": actions.MAX_ATTEMPTS,
        },
    )


def _after(callback: CallbackRequest, error: bool = False) -> HttpResponse:
    url = reverse("hotline:callback", args=[callback.pk])
    return redirect(url + ("?error=1" if error else ""))


@login_required
@require_POST
def take(request: HttpRequest, callback_id: Any) -> HttpResponse:
    callback = access_callback(request.user, callback_id)
    try:
        actions.take_callback(acting_user=request.user, callback=callback)
    except ValidationError:
        return _after(callback, error=True)
    return _after(callback)


@login_required
@require_POST
def no_answer(request: HttpRequest, callback_id: Any) -> HttpResponse:
    callback = access_callback(request.user, callback_id)
    try:
        actions.no_answer(
            acting_user=request.user,
            callback=callback,
            note=request.POST.get("note", "")[: actions.MAX_NOTE],
        )
    except ValidationError:
        return _after(callback, error=True)
    return _after(callback)


urlpatterns: list[URLPattern] = [
    path("callbacks/", queue, name="callbacks"),
    path("callbacks/<uuid:callback_id>/", detail, name="callback"),
    path("callbacks/<uuid:callback_id>/take", take, name="callback_take"),
    path("callbacks/<uuid:callback_id>/no-answer", no_answer, name="callback_no_answer"),
]
