"""Who sees an appointment: one place, 404 outside scope (DESIGN.md, R-PRIVACY). Those who may
book in the appointment's unit (APPOINTMENT_BOOK) and the counsellor themselves."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from xinqiao.booking.models import Appointment
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import get_or_404, require_confidentiality_agreement, scoped


def appointments_in_scope(user: Any) -> QuerySet[Appointment]:
    booked = scoped(Appointment.objects.all(), user, Action.APPOINTMENT_BOOK)
    return Appointment.objects.filter(
        Q(pk__in=booked.values("pk")) | Q(counsellor_id=getattr(user, "pk", None))
    ).select_related("person__unit", "counsellor", "unit", "rescheduled_to")


def access_appointment(user: Any, appointment_id: Any) -> Appointment:
    appointment = get_or_404(appointments_in_scope(user), appointment_id)
    require_confidentiality_agreement(user)
    return appointment
