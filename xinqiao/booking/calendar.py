"""A counsellor's appointments as an ICS calendar (icalendar) for phone calendar apps.

The calendar leaves the platform: the summary names nobody ("心理咨询预约" and the short
reference), and the description carries only the format and the place (R-PRIVACY)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from xinqiao.booking.models import Appointment, AppointmentStatus

PAST_DAYS = 30


def counsellor_calendar(counsellor: Any, *, host: str = "xinqiao") -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Xinqiao//Appointments//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _("Xinqiao appointments"))
    since = timezone.now() - timedelta(days=PAST_DAYS)
    rows = Appointment.objects.filter(
        counsellor=counsellor,
        starts_at__gte=since,
        status__in=[
            AppointmentStatus.BOOKED,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.ATTENDED,
            AppointmentStatus.NO_SHOW,
        ],
    ).order_by("starts_at")
    for appointment in rows:
        event = Event()
        event.add("uid", f"{appointment.pk}@{host}")
        event.add("dtstamp", timezone.now())
        event.add("dtstart", appointment.starts_at)
        event.add("dtend", appointment.ends_at)
        event.add("summary", _("Counselling appointment %(ref)s") % {"ref": appointment.reference})
        event.add("description", appointment.get_format_display())
        if appointment.location:
            event.add("location", appointment.location)
        event.add(
            "status",
            "CANCELLED" if appointment.status == AppointmentStatus.CANCELLED else "CONFIRMED",
        )
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
