"""Staff pages of appointments (R-BOOK): my availability, my appointments, the unit's
appointments, booking for a person, an appointment's page, the calendar feed."""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import groupby
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinqiao.accounts.models import User
from xinqiao.assessments import printing
from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.booking import actions
from xinqiao.booking.access import access_appointment
from xinqiao.booking.calendar import counsellor_calendar
from xinqiao.booking.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityChange,
    AvailabilityWindow,
    BookingLink,
    CalendarFeed,
    ChangeKind,
    Format,
)
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, get_or_404, scope_paths, scoped
from xinqiao.people.access import access_person

WINDOW_ROWS = 8


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _by_day(appointments: list[Appointment]) -> list[tuple[date, list[Appointment]]]:
    zone = actions.tz()
    return [
        (day, list(rows))
        for day, rows in groupby(appointments, key=lambda a: a.starts_at.astimezone(zone).date())
    ]


def _publish_units(user: Any) -> list[Unit]:
    paths = scope_paths(user, Action.AVAILABILITY_PUBLISH)
    return list(Unit.objects.filter(path__in=paths, is_active=True).order_by("path"))


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The counsellor's appointments: today and the coming ones, by day, and any earlier one
    still open (neither attended nor marked as a no-show)."""
    now = timezone.now()
    today = datetime.combine(timezone.localdate(), time.min, tzinfo=actions.tz())
    rows = list(
        Appointment.objects.filter(counsellor_id=request.user.pk)
        .filter(Q(starts_at__gte=today) | Q(status=AppointmentStatus.BOOKED))
        .select_related("person", "unit")
        .order_by("starts_at")[:200]
    )
    return render(
        request,
        "booking/mine.html",
        {"days": _by_day(rows), "now": now, "can_publish": bool(_publish_units(request.user))},
    )


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.APPOINTMENT_BOOK):
        raise Http404
    today = datetime.combine(timezone.localdate(), time.min, tzinfo=actions.tz())
    rows = list(
        scoped(Appointment.objects.all(), request.user, Action.APPOINTMENT_BOOK)
        .filter(starts_at__gte=today)
        .select_related("person", "unit", "counsellor")
        .order_by("starts_at")[:300]
    )
    log_access(request, object_type="booking.appointment", kind=AccessKind.LIST)
    return render(request, "booking/unit_list.html", {"days": _by_day(rows)})


def _window_inputs(request: HttpRequest) -> tuple[list[actions.WindowInput], dict[str, str]]:
    inputs: list[actions.WindowInput] = []
    errors: dict[str, str] = {}
    for n in range(WINDOW_ROWS):
        p = f"windows-{n}-"
        weekday = request.POST.get(p + "weekday", "")
        start, end = request.POST.get(p + "start", ""), request.POST.get(p + "end", "")
        if not weekday and not start and not end:
            continue
        index = len(inputs)
        q = f"windows-{index}-"
        try:
            wd = int(weekday)
        except ValueError:
            errors[q + "weekday"] = _("Choose a day of the week.")
            continue
        st, en = parse_time(start or ""), parse_time(end or "")
        if st is None:
            errors[q + "start"] = _("Enter a time like 09:00.")
            continue
        if en is None:
            errors[q + "end"] = _("Enter a time like 12:00.")
            continue
        vf = parse_date(request.POST.get(p + "valid_from", "") or "") or None
        vu = parse_date(request.POST.get(p + "valid_until", "") or "") or None
        inputs.append(
            actions.WindowInput(
                weekday=wd,
                start=st,
                end=en,
                valid_from=vf,
                valid_until=vu,
                format=request.POST.get(p + "format", Format.OFFLINE),
                location=request.POST.get(p + "location", ""),
            )
        )
    return inputs, errors


@login_required
def availability(request: HttpRequest) -> HttpResponse:
    """My weekly windows and exceptions, per unit where I receive."""
    units = _publish_units(request.user)
    if not units:
        raise Http404
    unit = units[0]
    chosen = request.GET.get("unit") or request.POST.get("unit")
    if chosen:
        unit = next((u for u in units if str(u.pk) == chosen), None) or units[0]
    errors: dict[str, Any] = {}
    saved = False
    if request.method == "POST" and request.POST.get("form") == "windows":
        inputs, errors = _window_inputs(request)
        if not errors:
            try:
                actions.publish_availability(acting_user=request.user, unit=unit, windows=inputs)
                return redirect(reverse("booking:availability") + f"?unit={unit.pk}&saved=1")
            except ValidationError as exc:
                errors = {k: " ".join(v) for k, v in _errors(exc).items()}
    elif request.method == "POST" and request.POST.get("form") == "change":
        try:
            day = parse_date(request.POST.get("day", "") or "")
            if day is None:
                raise ValidationError({"day": _("Enter a date like 2026-12-24.")})
            start = parse_time(request.POST.get("start", "") or "") or None
            end = parse_time(request.POST.get("end", "") or "") or None
            actions.add_change(
                acting_user=request.user,
                unit=unit,
                kind=request.POST.get("kind", ""),
                day=day,
                start=start,
                end=end,
                reason=request.POST.get("reason", ""),
            )
            return redirect(reverse("booking:availability") + f"?unit={unit.pk}&saved=1")
        except ValidationError as exc:
            errors = {"change-" + k: " ".join(v) for k, v in _errors(exc).items()}
    saved = request.GET.get("saved") == "1"
    windows = list(AvailabilityWindow.objects.filter(counsellor_id=request.user.pk, unit=unit))
    rows = [
        {
            "n": n,
            "w": windows[n] if n < len(windows) else None,
            "errors": {
                f: errors.get(f"windows-{n}-{f}", "")
                for f in ("weekday", "start", "end", "valid_until", "format")
            },
        }
        for n in range(WINDOW_ROWS)
    ]
    changes = AvailabilityChange.objects.filter(
        counsellor_id=request.user.pk, unit=unit, day__gte=timezone.localdate()
    )
    weekdays = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    return render(
        request,
        "booking/availability.html",
        {
            "unit": unit,
            "units": units,
            "rows": rows,
            "weekdays": list(enumerate(weekdays)),
            "formats": Format.choices,
            "kinds": ChangeKind.choices,
            "changes": changes,
            "errors": errors,
            "saved": saved,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def remove_change(request: HttpRequest, change_id: Any) -> HttpResponse:
    change = get_or_404(AvailabilityChange.objects.filter(counsellor_id=request.user.pk), change_id)
    actions.remove_change(acting_user=request.user, change=change)
    return redirect(reverse("booking:availability") + f"?unit={change.unit_id}")


@login_required
def book_for_person(request: HttpRequest, person_id: Any) -> HttpResponse:
    """Choose a counsellor and a free time for a person."""
    person = access_person(request.user, person_id, Action.APPOINTMENT_BOOK)
    counsellors = [c for c, _u in actions.serving(person)]
    counsellors = list({c.pk: c for c in counsellors}.values())
    chosen = request.GET.get("counsellor") or request.POST.get("counsellor")
    counsellor = next((c for c in counsellors if str(c.pk) == chosen), None)
    errors: dict[str, list[str]] = {}
    taken: list[actions.Offer] = []
    if request.method == "POST":
        starts_at = parse_datetime(request.POST.get("starts_at", "") or "")
        try:
            if counsellor is None:
                raise ValidationError({"counsellor": _("Choose a counsellor.")})
            if starts_at is None:
                raise ValidationError({"starts_at": _("Choose a time.")})
            appointment = actions.book(
                acting_user=request.user,
                person=person,
                counsellor=counsellor,
                starts_at=starts_at,
                channel="staff",
            )
            return redirect("booking:detail", appointment_id=appointment.pk)
        except actions.SlotTaken as exc:
            errors, taken = _errors(exc), exc.offers
        except ValidationError as exc:
            errors = _errors(exc)
    offers = actions.offers_for(person, counsellor=counsellor) if counsellor else []
    return render(
        request,
        "booking/book.html",
        {
            "person": person,
            "counsellors": counsellors,
            "counsellor": counsellor,
            "offer_days": _offer_days(offers),
            "errors": errors,
            "taken": taken,
        },
        status=409 if taken else (400 if errors else 200),
    )


def _offer_days(offers: list[actions.Offer]) -> list[tuple[date, list[actions.Offer]]]:
    zone = actions.tz()
    return [
        (day, list(rows))
        for day, rows in groupby(offers, key=lambda o: o.start.astimezone(zone).date())
    ]


@login_required
def send_link(request: HttpRequest, person_id: Any) -> HttpResponse:
    """Send a booking link: POST creates one and shows it once with its QR code."""
    person = access_person(request.user, person_id, Action.APPOINTMENT_BOOK)
    links = BookingLink.objects.filter(person=person, revoked_at__isnull=True)
    context: dict[str, Any] = {"person": person, "links": links, "errors": {}}
    status = 200
    if request.method == "POST":
        try:
            days = int(request.POST.get("days") or actions.LINK_DAYS)
        except ValueError:
            days = 0
        try:
            link, token = actions.create_link(acting_user=request.user, person=person, days=days)
            path = reverse("booking:public_start", kwargs={"token": token})
            from django.conf import settings

            base = settings.XINQIAO_PUBLIC_URL.rstrip("/")
            url = f"{base}{path}" if base else request.build_absolute_uri(path)
            context.update({"link": link, "url": url, "qr": printing.qr_svg(url)})
        except ValidationError as exc:
            context["errors"] = _errors(exc)
            status = 400
    return render(request, "booking/link.html", context, status=status)


@login_required
@require_POST
def revoke_link(request: HttpRequest, link_id: Any) -> HttpResponse:
    link = get_or_404(
        scoped(BookingLink.objects.all(), request.user, Action.APPOINTMENT_BOOK), link_id
    )
    actions.revoke_link(acting_user=request.user, link=link)
    return redirect("booking:link", person_id=link.person_id)


@login_required
def detail(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    appointment = access_appointment(request.user, appointment_id)
    log_access(request, appointment)
    return _detail(request, appointment)


def _detail(
    request: HttpRequest,
    appointment: Appointment,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    active = appointment.status == AppointmentStatus.BOOKED
    offers = (
        actions.offers_for(appointment.person, counsellor=appointment.counsellor)[:40]
        if active
        else []
    )
    return render(
        request,
        "booking/detail.html",
        {
            "a": appointment,
            "person": appointment.person,
            "active": active,
            "begun": appointment.starts_at <= now,
            "offers": offers,
            "errors": errors or {},
            "can_open_file": can(request.user, Action.PERSON_VIEW, appointment.person.unit),
            "can_record_session": can(request.user, Action.SESSION_RECORD, appointment.unit),
            "session": getattr(appointment, "session", None),
        },
        status=status,
    )


def _post_action(request: HttpRequest, appointment_id: Any, what: str) -> HttpResponse:
    appointment = access_appointment(request.user, appointment_id)
    try:
        if what == "cancel":
            actions.cancel(
                acting_user=request.user,
                appointment=appointment,
                reason=request.POST.get("reason", ""),
            )
        elif what == "reschedule":
            new_at = parse_datetime(request.POST.get("new_starts_at", "") or "")
            if new_at is None:
                raise ValidationError({"new_starts_at": _("Choose the new time.")})
            new = actions.reschedule(
                acting_user=request.user,
                appointment=appointment,
                new_starts_at=new_at,
                reason=request.POST.get("reason", ""),
            )
            return redirect("booking:detail", appointment_id=new.pk)
        elif what == "attended":
            actions.mark_attended(acting_user=request.user, appointment=appointment)
        else:
            actions.mark_no_show(acting_user=request.user, appointment=appointment)
    except ValidationError as exc:
        appointment.refresh_from_db()
        return _detail(request, appointment, _errors(exc), status=400)
    return redirect("booking:detail", appointment_id=appointment.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    return _post_action(request, appointment_id, "cancel")


@login_required
@require_POST
def reschedule(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    return _post_action(request, appointment_id, "reschedule")


@login_required
@require_POST
def attended(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    return _post_action(request, appointment_id, "attended")


@login_required
@require_POST
def no_show(request: HttpRequest, appointment_id: Any) -> HttpResponse:
    return _post_action(request, appointment_id, "no_show")


def _ics(counsellor: User, request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        counsellor_calendar(counsellor, host=request.get_host().split(":")[0] or "xinqiao"),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def calendar_download(request: HttpRequest) -> HttpResponse:
    response = _ics(request.user, request)  # type: ignore[arg-type]
    response["Content-Disposition"] = 'attachment; filename="xinqiao-appointments.ics"'
    return response


@login_required
def calendar_feed(request: HttpRequest) -> HttpResponse:
    """(Re)generate or revoke my secret feed address; the address is shown once."""
    context: dict[str, Any] = {"feed": None}
    if request.method == "POST":
        if request.POST.get("revoke"):
            actions.revoke_feed(counsellor=request.user)
        else:
            token = actions.regenerate_feed(counsellor=request.user)
            path = reverse("booking:feed", kwargs={"token": token})
            context["url"] = request.build_absolute_uri(path)
    context["has_feed"] = CalendarFeed.objects.filter(counsellor_id=request.user.pk).exists()
    return render(request, "booking/feed.html", context)


def public_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = actions.find_feed(token)
    if feed is None:
        raise Http404
    return _ics(feed.counsellor, request)
