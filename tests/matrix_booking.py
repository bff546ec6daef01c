"""The booking objects and rules of the scope matrix (tests/test_scope_matrix.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from xinqiao.booking.models import Appointment, AvailabilityChange, BookingLink
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    """URL parameter name → an object of this app belonging to ``unit`` (and ``person``,
    created by ``staff``, the unit's counsellor)."""
    starts = timezone.now().replace(microsecond=0) + timedelta(days=2)
    appointment = Appointment.objects.create(
        unit=unit,
        counsellor=staff,
        person=person,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=50),
        channel="staff",
        booked_by=staff,
    )
    change = AvailabilityChange.objects.create(
        counsellor=staff, unit=unit, kind="closed", day=starts.date(), reason="矩阵"
    )
    link = BookingLink.objects.create(
        person=person,
        unit=unit,
        digest=f"matrix-{appointment.pk.hex}",
        expires_at=starts,
        created_by=staff,
    )
    return {"appointment_id": appointment, "change_id": change, "link_id": link}


def skip_inside(route: str, user: Any) -> bool:
    """True for a route this app's tests cover instead (need-to-know pages the persona's role
    does not open even inside its scope)."""
    # Appointments are for those who book them and for the counsellor: test_booking.
    return route.startswith("/booking/") and not can(user, Action.APPOINTMENT_BOOK)
