"""The person books from their phone through their own link (R-BOOK): no sign-in, the link is
the credential. Free times of the counsellors serving the person's unit for the next two weeks,
by day; pick one, confirm, see the confirmation and how to cancel. Only the person's own
bookings and counsellors' display names are shown; the hotline number always. Every page is
rate-limited per client address (429 when hammered)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache

from xinqiao.audit.log import client_ip
from xinqiao.booking import actions
from xinqiao.booking.models import Appointment, AppointmentStatus, BookingLink
from xinqiao.booking.views import _offer_days
from xinqiao.lib.idempotency import Replay, idempotent, remember
from xinqiao.lib.ratelimit import hit

UNAVAILABLE_STATUS = {"unknown": 404, "revoked": 410, "expired": 410}


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context["hotline_number"] = settings.XINQIAO_HOTLINE_NUMBER
    return render(request, f"booking/public/{template}", context, status=status)


def _open(request: HttpRequest, token: str) -> BookingLink | HttpResponse:
    allowed = hit(
        cache,
        scope="booking",
        subject=client_ip(request) or "unknown",
        limit=settings.XINQIAO_SELF_SERVICE_RATE_PER_MINUTE,
        window_seconds=60,
    )
    if not allowed:
        response = _page(request, "message.html", {"kind": "rate_limited"}, status=429)
        response["Retry-After"] = "60"
        return response
    try:
        return actions.find_link(token)
    except actions.LinkUnavailable as exc:
        return _page(
            request,
            "message.html",
            {"kind": exc.reason},
            status=UNAVAILABLE_STATUS.get(exc.reason, 404),
        )


def _own(link: BookingLink) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            person=link.person, status=AppointmentStatus.BOOKED, starts_at__gte=timezone.now()
        )
        .select_related("counsellor")
        .order_by("starts_at")
    )


def _choices(link: BookingLink) -> list[Any]:
    return _offer_days(actions.offers_for(link.person))


@never_cache
def start(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    return _page(
        request,
        "start.html",
        {"token": token, "mine": _own(link), "days": _choices(link)},
    )


def _find_offer(link: BookingLink, request: HttpRequest) -> actions.Offer | None:
    at = parse_datetime(request.POST.get("at") or request.GET.get("at") or "")
    who = request.POST.get("c") or request.GET.get("c") or ""
    if at is None:
        return None
    return next(
        (
            o
            for o in actions.offers_for(link.person)
            if o.start == at and str(o.counsellor.pk) == who
        ),
        None,
    )


def _booked_again(request: HttpRequest, replay: Replay, token: str) -> HttpResponse:
    """A retried confirmation (same idempotency key): the confirmation, without booking again."""
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    appointment = replay.object()
    if not isinstance(appointment, Appointment) or appointment.person_id != link.person_id:
        return redirect("booking:public_start", token=token)
    return _page(request, "booked.html", {"token": token, "a": appointment})


@never_cache
@idempotent("booking.public_confirm", replay=_booked_again)
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    if request.method != "POST" or request.POST.get("confirmed") != "1":
        offer = _find_offer(link, request)
        if offer is None:
            return _page(
                request,
                "start.html",
                {"token": token, "mine": _own(link), "days": _choices(link), "gone": True},
                status=409 if request.method == "POST" else 200,
            )
        return _page(request, "confirm.html", {"token": token, "offer": offer})
    at = parse_datetime(request.POST.get("at", "") or "")
    who = request.POST.get("c", "")
    counsellor = next(
        (c for c, _u in actions.serving(link.person) if str(c.pk) == who),
        None,
    )
    try:
        if at is None or counsellor is None:
            raise ValidationError({"starts_at": "gone"})
        appointment = actions.book(
            acting_user=None,
            person=link.person,
            counsellor=counsellor,
            starts_at=at,
            channel="self",
        )
    except actions.SlotTaken as exc:
        return _page(
            request,
            "start.html",
            {
                "token": token,
                "mine": _own(link),
                "days": _offer_days(exc.offers),
                "taken": True,
            },
            status=409,
        )
    except ValidationError as exc:
        messages = [m for m in exc.messages if m != "gone"]
        return _page(
            request,
            "start.html",
            {
                "token": token,
                "mine": _own(link),
                "days": _choices(link),
                "gone": not messages,
                "error": " ".join(messages),
            },
            status=409,
        )
    remember(request, obj=appointment)
    return _page(request, "booked.html", {"token": token, "a": appointment})


@never_cache
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    if request.method != "POST":
        return redirect("booking:public_start", token=token)
    ref = request.POST.get("appointment", "")
    appointment = next((a for a in _own(link) if str(a.pk) == ref), None)
    if appointment is None:
        return redirect("booking:public_start", token=token)
    try:
        actions.cancel(
            acting_user=None, appointment=appointment, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        return _page(
            request,
            "start.html",
            {
                "token": token,
                "mine": _own(link),
                "days": _choices(link),
                "cancel_error": " ".join(exc.messages),
                "cancel_ref": ref,
            },
            status=400,
        )
    return _page(request, "message.html", {"kind": "cancelled", "token": token})
