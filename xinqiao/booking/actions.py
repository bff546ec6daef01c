"""Writes of appointments and availability (R-BOOK; seed 002 篇2 三(三)2 预约咨询). Keyword-only,
one transaction each, validation before any write; the status moves only through
``Appointment.TRANSITIONS``; every appointment change appends a timeline event on the person's
file in the same transaction, and the change log (django-auditlog) is attributed with
``acting``. Bad input raises ``ValidationError`` naming the field; a person or appointment
outside the acting user's scope raises ``Http404`` (the same answer as "does not exist")."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.audit.log import acting
from xinqiao.booking import slots
from xinqiao.booking.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityChange,
    AvailabilityWindow,
    BookingLink,
    CalendarFeed,
    ChangeKind,
    Channel,
    Format,
)
from xinqiao.lib.crypto import digest_token
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.events import record_event
from xinqiao.people.models import EventKind, FileStatus, Person

MAX_TEXT = 2000
BOOKING_DAYS = 14  # the person's link offers the next two weeks
LINK_DAYS = 14
REMIND_HOURS = 24  # "the day before"


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


AVAILABILITY_MESSAGES = {
    "end_before_start": lambda: _("The end must be after the start."),
    "too_short": lambda: (
        _("A window must hold at least one %(n)d-minute session.") % {"n": slots.SESSION_MINUTES}
    ),
    "overlap": lambda: _("Two windows of the same day overlap."),
    "weekday": lambda: _("Choose a day of the week."),
    "range": lambda: _("The last day is before the first."),
}


def _availability_error(exc: slots.AvailabilityError, prefix: str = "") -> ValidationError:
    message = AVAILABILITY_MESSAGES.get(exc.code, lambda: str(exc))()
    return ValidationError({f"{prefix}{exc.field}": message})


@dataclass(frozen=True)
class WindowInput:
    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None
    format: str = Format.OFFLINE
    location: str = ""


@dataclass(frozen=True)
class Offer:
    """A free slot of one counsellor in one unit."""

    start: datetime
    end: datetime
    counsellor: Any
    unit: Unit
    format: str
    location: str


class SlotTaken(ValidationError):
    """The slot was just taken by someone else; ``offers`` are the next free ones."""

    def __init__(self, offers: list[Offer]) -> None:
        super().__init__(
            {"starts_at": _("This time was just taken by someone else. Please choose another.")}
        )
        self.offers = offers


def _require_publisher(user: Any, unit: Unit) -> None:
    if not can(user, Action.AVAILABILITY_PUBLISH, unit):
        raise Http404


# --- availability ---------------------------------------------------------------------------


def publish_availability(
    *, acting_user: Any, unit: Unit, windows: Sequence[WindowInput]
) -> list[AvailabilityWindow]:
    """Replace ``acting_user``'s weekly windows in ``unit`` (their own only). Overlapping
    windows, an end before the start or a window shorter than one session are refused with the
    field named (``windows-<n>-<field>``). Booked appointments stay as they are."""
    _require_publisher(acting_user, unit)
    for number, window in enumerate(windows):
        try:
            slots.check_windows([slots.Window(window.weekday, window.start, window.end)])
        except slots.AvailabilityError as exc:
            raise _availability_error(exc, f"windows-{number}-") from exc
        if window.valid_from and window.valid_until and window.valid_until < window.valid_from:
            raise ValidationError(
                {f"windows-{number}-valid_until": _("The last day is before the first.")}
            )
        if window.format not in Format.values:
            raise ValidationError({f"windows-{number}-format": _("Choose online or in person.")})
    _check_overlaps(windows)
    with transaction.atomic(), acting(acting_user):
        AvailabilityWindow.objects.filter(counsellor=acting_user, unit=unit).delete()
        return [
            AvailabilityWindow.objects.create(
                counsellor=acting_user,
                unit=unit,
                weekday=w.weekday,
                start=w.start,
                end=w.end,
                valid_from=w.valid_from,
                valid_until=w.valid_until,
                format=w.format,
                location=(w.location or "").strip()[:200],
            )
            for w in windows
        ]


def _check_overlaps(windows: Sequence[WindowInput]) -> None:
    """Two windows of one weekday overlap only if their validity periods meet too."""
    for i, a in enumerate(windows):
        for j, b in enumerate(windows[:i]):
            if a.weekday != b.weekday or not (a.start < b.end and b.start < a.end):
                continue
            if (a.valid_until and b.valid_from and a.valid_until < b.valid_from) or (
                b.valid_until and a.valid_from and b.valid_until < a.valid_from
            ):
                continue
            raise ValidationError(
                {f"windows-{i}-start": _("This window overlaps window %(n)d.") % {"n": j + 1}}
            )


def add_change(
    *,
    acting_user: Any,
    unit: Unit,
    kind: str,
    day: date,
    start: time | None = None,
    end: time | None = None,
    reason: str = "",
) -> AvailabilityChange:
    """A closed period (the whole day without times) or extra hours on ``day``."""
    _require_publisher(acting_user, unit)
    if kind not in ChangeKind.values:
        raise ValidationError({"kind": _("Choose closed or extra hours.")})
    if (start is None) != (end is None):
        raise ValidationError({"end": _("Give both times, or neither for the whole day.")})
    if kind == ChangeKind.EXTRA and start is None:
        raise ValidationError({"start": _("Extra hours need a start and an end.")})
    if start is not None and end is not None:
        if kind == ChangeKind.EXTRA:
            try:
                slots.check_extras([slots.Extra(day, start, end)])
            except slots.AvailabilityError as exc:
                raise _availability_error(exc) from exc
        elif end <= start:
            raise ValidationError({"end": _("The end must be after the start.")})
    if kind == ChangeKind.CLOSED and not (reason or "").strip():
        raise ValidationError({"reason": _("Say why you are not available (e.g. leave).")})
    with transaction.atomic(), acting(acting_user):
        return AvailabilityChange.objects.create(
            counsellor=acting_user,
            unit=unit,
            kind=kind,
            day=day,
            start=start,
            end=end,
            reason=(reason or "").strip()[:200],
        )


def remove_change(*, acting_user: Any, change: AvailabilityChange) -> None:
    if change.counsellor_id != acting_user.pk:
        raise Http404
    with transaction.atomic(), acting(acting_user):
        change.delete()


# --- free slots -------------------------------------------------------------------------------


def offers(
    *, counsellor: Any, unit: Unit, first_day: date, last_day: date, now: datetime | None = None
) -> list[Offer]:
    """The counsellor's free slots in ``unit`` from ``first_day`` to ``last_day``: their
    weekly windows valid on each day, minus closed periods, plus extra hours, minus slots in the
    past and slots that meet one of their active appointments (in any unit)."""
    now = now or timezone.now()
    zone = tz()
    windows = list(AvailabilityWindow.objects.filter(counsellor=counsellor, unit=unit))
    changes = list(
        AvailabilityChange.objects.filter(
            counsellor=counsellor, unit=unit, day__gte=first_day, day__lte=last_day
        )
    )
    start_at = datetime.combine(first_day, time.min, tzinfo=zone)
    end_at = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
    busy = list(
        Appointment.objects.filter(
            counsellor=counsellor,
            status=AppointmentStatus.BOOKED,
            starts_at__lt=end_at,
            ends_at__gt=start_at,
        ).values_list("starts_at", "ends_at")
    )
    found: list[Offer] = []
    day = first_day
    while day <= last_day:
        valid = [w for w in windows if w.weekday == day.weekday() and w.valid_on(day)]
        extras = [
            slots.Extra(c.day, c.start, c.end)
            for c in changes
            if c.day == day and c.kind == ChangeKind.EXTRA and c.start and c.end
        ]
        closed = [
            slots.Closed(c.day, c.start, c.end)
            for c in changes
            if c.day == day and c.kind == ChangeKind.CLOSED
        ]
        if valid or extras:
            cut = slots.slots(
                windows=[slots.Window(w.weekday, w.start, w.end) for w in valid],
                closed=closed,
                extras=extras,
                first_day=day,
                last_day=day,
                tz=zone,
            )
            for slot in cut:
                if slot.start <= now or any(s < slot.end and slot.start < e for s, e in busy):
                    continue
                local = slot.start.astimezone(zone).time()
                window = next((w for w in valid if w.start <= local < w.end), None)
                found.append(
                    Offer(
                        start=slot.start,
                        end=slot.end,
                        counsellor=counsellor,
                        unit=unit,
                        format=window.format if window else Format.OFFLINE,
                        location=window.location if window else "",
                    )
                )
        day += timedelta(days=1)
    return found


def serving(person: Person) -> list[tuple[Any, Unit]]:
    """(counsellor, unit) pairs receiving in the person's unit or a unit above it, where the
    counsellor may publish availability."""
    return serving_unit(person.unit)


def serving_unit(unit: Unit) -> list[tuple[Any, Unit]]:
    """(counsellor, unit) pairs receiving in ``unit`` or a unit above it (issue #8: the
    portal of a unit shows its counsellors' free slots before there is a person file)."""
    rows = (
        AvailabilityWindow.objects.filter(
            unit__path__in=unit.ancestor_paths(), counsellor__is_active=True
        )
        .select_related("counsellor", "unit")
        .order_by("unit__depth", "counsellor__username")
    )
    pairs: dict[tuple[Any, Any], tuple[Any, Unit]] = {}
    for w in rows:
        key = (w.counsellor_id, w.unit_id)
        if key not in pairs and can(w.counsellor, Action.AVAILABILITY_PUBLISH, w.unit):
            pairs[key] = (w.counsellor, w.unit)
    return list(pairs.values())


def offers_for(
    person: Person,
    *,
    counsellor: Any | None = None,
    days: int = BOOKING_DAYS,
    now: datetime | None = None,
) -> list[Offer]:
    """Free slots of the counsellors serving ``person`` (one counsellor if given), in time
    order, for the next ``days`` days."""
    now = now or timezone.now()
    today = now.astimezone(tz()).date()
    found: list[Offer] = []
    for who, unit in serving(person):
        if counsellor is not None and who.pk != counsellor.pk:
            continue
        found += offers(
            counsellor=who,
            unit=unit,
            first_day=today,
            last_day=today + timedelta(days=days - 1),
            now=now,
        )
    return sorted(found, key=lambda o: (o.start, o.counsellor.username))


def offers_in(unit: Unit, *, days: int = BOOKING_DAYS, now: datetime | None = None) -> list[Offer]:
    """Free slots of the counsellors serving ``unit`` (and the units above it), in time order,
    for the next ``days`` days: what the unit's public portal offers (issue #8 item 4)."""
    now = now or timezone.now()
    today = now.astimezone(tz()).date()
    found: list[Offer] = []
    for who, where in serving_unit(unit):
        found += offers(
            counsellor=who,
            unit=where,
            first_day=today,
            last_day=today + timedelta(days=days - 1),
            now=now,
        )
    return sorted(found, key=lambda o: (o.start, o.counsellor.username))


# --- appointments -----------------------------------------------------------------------------


def _when(appointment: Appointment) -> str:
    return f"{appointment.starts_at.astimezone(tz()):%Y-%m-%d %H:%M}"


def _event(appointment: Appointment, actor: Any, what: str) -> None:
    record_event(
        person=appointment.person,
        kind=EventKind.APPOINTMENT,
        actor=actor,
        obj=appointment,
        summary=_("Appointment %(what)s: %(when)s · %(counsellor)s")
        % {"what": what, "when": _when(appointment), "counsellor": appointment.counsellor.name},
    )


def _tell_counsellor(appointment: Appointment, actor: Any, subject: str) -> None:
    """The counsellor hears of new, moved and cancelled bookings (never the person's name)."""
    from xinqiao.notify.actions import notify

    if actor is not None and getattr(actor, "pk", None) == appointment.counsellor_id:
        return
    notify(
        recipients=[appointment.counsellor],
        subject=subject % {"when": _when(appointment), "ref": appointment.reference},
        body=_("Appointment %(ref)s at %(when)s. Open it in Xinqiao for the details.")
        % {"ref": appointment.reference, "when": _when(appointment)},
        url=reverse("booking:detail", kwargs={"appointment_id": appointment.pk}),
        obj=appointment,
    )


def may_manage(user: Any, appointment: Appointment) -> bool:
    return getattr(user, "pk", None) == appointment.counsellor_id or can(
        user, Action.APPOINTMENT_BOOK, appointment.unit
    )


def book(
    *,
    acting_user: Any | None,
    person: Person,
    counsellor: Any,
    starts_at: datetime,
    channel: str = Channel.STAFF,
    now: datetime | None = None,
    replacing: Appointment | None = None,
) -> Appointment:
    """Book ``person`` with ``counsellor`` at ``starts_at``, which must be one of the
    counsellor's free slots for the person. ``acting_user`` None: the person through their own
    link (``channel`` self). A slot taken meanwhile raises ``SlotTaken`` with the next free
    slots: the database refuses the second active booking of one slot."""
    now = now or timezone.now()
    if acting_user is not None and not can(acting_user, Action.APPOINTMENT_BOOK, person.unit):
        raise Http404
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown booking channel.")})
    if person.status != FileStatus.ACTIVE:
        raise ValidationError({"person": _("This file is not active; it takes no bookings.")})
    if starts_at <= now:
        raise ValidationError({"starts_at": _("This time is in the past. Choose a later one.")})
    pairs = [(c, u) for c, u in serving(person) if c.pk == counsellor.pk]
    if not pairs:
        raise ValidationError(
            {"counsellor": _("This counsellor takes no appointments for this person's unit.")}
        )
    day = starts_at.astimezone(tz()).date()
    offer = None
    for who, unit in pairs:
        offer = next(
            (
                o
                for o in offers(counsellor=who, unit=unit, first_day=day, last_day=day, now=now)
                if o.start == starts_at
            ),
            None,
        )
        if offer:
            break
    if offer is None:
        if Appointment.objects.filter(
            counsellor=counsellor, starts_at=starts_at, status=AppointmentStatus.BOOKED
        ).exists():
            raise SlotTaken(offers_for(person, counsellor=counsellor, now=now)[:5])
        raise ValidationError(
            {"starts_at": _("This time is not one of the counsellor's free times.")}
        )
    clash = Appointment.objects.filter(
        person=person,
        status=AppointmentStatus.BOOKED,
        starts_at__lt=offer.end,
        ends_at__gt=offer.start,
    )
    if replacing is not None:
        clash = clash.exclude(pk=replacing.pk)
    if clash.exists():
        raise ValidationError(
            {"starts_at": _("This person already has an appointment at this time.")}
        )
    try:
        with transaction.atomic(), acting(acting_user):
            appointment = Appointment.objects.create(
                unit=offer.unit,
                counsellor=counsellor,
                person=person,
                starts_at=offer.start,
                ends_at=offer.end,
                format=offer.format,
                location=offer.location,
                channel=channel,
                booked_by=acting_user,
            )
            _event(appointment, acting_user, _("booked"))
            _tell_counsellor(appointment, acting_user, _("New appointment %(ref)s: %(when)s"))
    except IntegrityError:
        if Appointment.objects.filter(
            person=person, starts_at=starts_at, status=AppointmentStatus.BOOKED
        ).exists():
            raise ValidationError(
                {"starts_at": _("This person already has an appointment at this time.")}
            ) from None
        raise SlotTaken(offers_for(person, counsellor=counsellor, now=now)[:5]) from None
    return appointment


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: _("Give a reason.")})
    if len(reason) > MAX_TEXT:
        raise ValidationError({field: _("At most %(n)d characters, please.") % {"n": MAX_TEXT}})
    return reason


def _move(appointment: Appointment, status: str) -> None:
    if status not in Appointment.TRANSITIONS[appointment.status]:
        raise ValidationError(
            {
                "status": _("This appointment is %(status)s and cannot change now.")
                % {"status": appointment.get_status_display()}
            }
        )
    appointment.status = status


def _lock(appointment: Appointment, acting_user: Any | None) -> Appointment:
    if acting_user is not None and not may_manage(acting_user, appointment):
        raise Http404
    return (
        Appointment.objects.select_for_update()
        .select_related("counsellor", "person")
        .get(pk=appointment.pk)
    )


def cancel(
    *, acting_user: Any | None, appointment: Appointment, reason: str, now: datetime | None = None
) -> Appointment:
    """Cancel with a reason; ``acting_user`` None: the person through their link."""
    reason = _reason(reason)
    now = now or timezone.now()
    with transaction.atomic(), acting(acting_user):
        appointment = _lock(appointment, acting_user)
        _move(appointment, AppointmentStatus.CANCELLED)
        appointment.reason = reason
        appointment.closed_at = now
        appointment.closed_by = acting_user
        appointment.save()
        _event(appointment, acting_user, _("cancelled"))
        _tell_counsellor(appointment, acting_user, _("Appointment %(ref)s cancelled: %(when)s"))
    return appointment


def reschedule(
    *,
    acting_user: Any,
    appointment: Appointment,
    new_starts_at: datetime,
    reason: str,
    counsellor: Any | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move to another free slot (of the same counsellor unless another is given): the old
    appointment becomes ``rescheduled`` and links the new one. Returns the new one."""
    reason = _reason(reason)
    now = now or timezone.now()
    if acting_user is not None and not may_manage(acting_user, appointment):
        raise Http404
    if appointment.status != AppointmentStatus.BOOKED:
        _move(appointment, AppointmentStatus.RESCHEDULED)
    counsellor = counsellor or appointment.counsellor
    if new_starts_at == appointment.starts_at and counsellor.pk == appointment.counsellor_id:
        raise ValidationError({"starts_at": _("Choose a different time.")})
    with transaction.atomic(), acting(acting_user):
        old = Appointment.objects.select_for_update().get(pk=appointment.pk)
        _move(old, AppointmentStatus.RESCHEDULED)
        new = book(
            acting_user=acting_user if acting_user is not None else None,
            person=old.person,
            counsellor=counsellor,
            starts_at=new_starts_at,
            channel=old.channel,
            now=now,
            replacing=old,
        )
        old.rescheduled_to = new
        old.reason = reason
        old.closed_at = now
        old.closed_by = acting_user
        old.save()
        _event(old, acting_user, _("moved to %(when)s") % {"when": _when(new)})
    return new


def _mark(
    *, acting_user: Any, appointment: Appointment, status: str, now: datetime | None
) -> Appointment:
    now = now or timezone.now()
    with transaction.atomic(), acting(acting_user):
        appointment = _lock(appointment, acting_user)
        if appointment.starts_at > now:
            raise ValidationError({"status": _("The appointment has not begun yet.")})
        _move(appointment, status)
        appointment.closed_at = now
        appointment.closed_by = acting_user
        appointment.save()
        _event(
            appointment,
            acting_user,
            _("attended") if status == AppointmentStatus.ATTENDED else _("not attended"),
        )
    return appointment


def mark_attended(
    *, acting_user: Any, appointment: Appointment, now: datetime | None = None
) -> Appointment:
    return _mark(
        acting_user=acting_user,
        appointment=appointment,
        status=AppointmentStatus.ATTENDED,
        now=now,
    )


def mark_no_show(
    *, acting_user: Any, appointment: Appointment, now: datetime | None = None
) -> Appointment:
    return _mark(
        acting_user=acting_user,
        appointment=appointment,
        status=AppointmentStatus.NO_SHOW,
        now=now,
    )


# --- the person's booking link ----------------------------------------------------------------


class LinkUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def create_link(
    *, acting_user: Any, person: Person, days: int = LINK_DAYS
) -> tuple[BookingLink, str]:
    """A personal booking link for ``person``; returns the row and the token (shown once)."""
    if not can(acting_user, Action.APPOINTMENT_BOOK, person.unit):
        raise Http404
    if person.status != FileStatus.ACTIVE:
        raise ValidationError({"person": _("This file is not active; it takes no bookings.")})
    if not 1 <= days <= 60:
        raise ValidationError({"days": _("A link is valid for 1 to 60 days.")})
    token = secrets.token_urlsafe(24)
    with transaction.atomic(), acting(acting_user):
        link = BookingLink.objects.create(
            person=person,
            unit=person.unit,
            digest=digest_token(token),
            expires_at=timezone.now() + timedelta(days=days),
            created_by=acting_user,
        )
    return link, token


def revoke_link(*, acting_user: Any, link: BookingLink) -> None:
    if not can(acting_user, Action.APPOINTMENT_BOOK, link.unit):
        raise Http404
    with transaction.atomic(), acting(acting_user):
        BookingLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


def find_link(token: str) -> BookingLink:
    link = (
        BookingLink.objects.select_related("person__unit")
        .filter(digest=digest_token(token or ""))
        .first()
    )
    if link is None:
        raise LinkUnavailable("unknown")
    if link.revoked_at is not None:
        raise LinkUnavailable("revoked")
    if link.expires_at <= timezone.now() or link.person.status != FileStatus.ACTIVE:
        raise LinkUnavailable("expired")
    return link


# --- calendar feed ----------------------------------------------------------------------------


def regenerate_feed(*, counsellor: Any) -> str:
    """A new secret feed address for ``counsellor`` (the old one stops working)."""
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(
            counsellor=counsellor, defaults={"digest": digest_token(token)}
        )
    return token


def revoke_feed(*, counsellor: Any) -> None:
    CalendarFeed.objects.filter(counsellor=counsellor).delete()


def find_feed(token: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.select_related("counsellor")
        .filter(digest=digest_token(token or ""), counsellor__is_active=True)
        .first()
    )


# --- reminders --------------------------------------------------------------------------------


def send_reminders(*, now: datetime | None = None) -> int:
    """Remind each counsellor of each active appointment starting within the next day, once
    (``reminder_sent_at``). People have no notification channel yet (notify reaches staff
    only): their reminder is the confirmation page of their link."""
    from xinqiao.notify.actions import notify

    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = (
            Appointment.objects.select_for_update(skip_locked=True)
            .filter(
                status=AppointmentStatus.BOOKED,
                reminder_sent_at__isnull=True,
                starts_at__gt=now,
                starts_at__lte=now + timedelta(hours=REMIND_HOURS),
            )
            .select_related("counsellor")
        )
        for appointment in due:
            notify(
                recipients=[appointment.counsellor],
                subject=_("Reminder: appointment %(ref)s at %(when)s")
                % {"ref": appointment.reference, "when": _when(appointment)},
                body=_("You have an appointment at %(when)s.") % {"when": _when(appointment)},
                url=reverse("booking:detail", kwargs={"appointment_id": appointment.pk}),
                obj=appointment,
            )
            Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=now)
            sent += 1
    return sent


def erase_appointments(person: Person) -> None:
    """Erasure (people.actions.ERASURE_STEPS): the reasons given go, the person's links stop
    working, and appointments still to come are cancelled (nobody waits for an erased file)."""
    now = timezone.now()
    Appointment.objects.filter(person=person).update(reason="")
    BookingLink.objects.filter(person=person, revoked_at__isnull=True).update(revoked_at=now)
    Appointment.objects.filter(
        person=person, status=AppointmentStatus.BOOKED, starts_at__gt=now
    ).update(status=AppointmentStatus.CANCELLED, closed_at=now)
