"""The appointments section of a person's file: upcoming and past appointments (R-BOOK)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from xinqiao.booking.models import Appointment
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import FileStatus, Person
from xinqiao.people.sections import FileSection


def appointments_context(request: HttpRequest, person: Person) -> dict[str, Any] | None:
    user = request.user
    may_book = can(user, Action.APPOINTMENT_BOOK, person.unit)
    if not (may_book or can(user, Action.PERSON_VIEW, person.unit)):
        return None
    rows = list(
        Appointment.objects.filter(person=person)
        .select_related("counsellor")
        .order_by("-starts_at")[:30]
    )
    now = timezone.now()
    return {
        "person": person,
        "upcoming": sorted((a for a in rows if a.starts_at >= now), key=lambda a: a.starts_at),
        "past": [a for a in rows if a.starts_at < now],
        "can_book": may_book and person.status == FileStatus.ACTIVE,
        "may_open": may_book,
        "user_pk": user.pk,
    }


SECTION = FileSection(
    name="appointments", template="booking/_file_section.html", context=appointments_context
)
