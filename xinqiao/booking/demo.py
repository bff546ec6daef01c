"""Demo appointments (generated data): weekly availability for the demo counsellors of each
community and a few bookings of people of their community in the coming days, and a few
past ones attended or missed."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from xinqiao.booking import actions
from xinqiao.booking.actions import WindowInput
from xinqiao.booking.models import Appointment, AppointmentStatus, Channel, Format
from xinqiao.orgs.models import Membership, UnitKind
from xinqiao.orgs.permissions import Action, role_allows
from xinqiao.people.models import FileStatus, Person

WEEK = [
    WindowInput(weekday=0, start=time(9), end=time(12), location="社区心理咨询室"),
    WindowInput(weekday=2, start=time(14), end=time(17), format=Format.ONLINE),
    WindowInput(weekday=4, start=time(9), end=time(12), location="社区心理咨询室"),
]


def populate(today: date) -> None:
    rng = random.Random(5)  # noqa: S311 -- reproducible demo data, not security
    zone = actions.tz()
    memberships = (
        Membership.objects.filter(unit__kind=UnitKind.COMMUNITY, user__is_active=True)
        .select_related("user", "unit")
        .order_by("unit__path", "user__username")
    )
    for membership in memberships:
        if not role_allows(membership.role, Action.AVAILABILITY_PUBLISH):
            continue
        counsellor, unit = membership.user, membership.unit
        actions.publish_availability(acting_user=counsellor, unit=unit, windows=WEEK)
        people = list(
            Person.objects.filter(
                unit__path__startswith=unit.path, status=FileStatus.ACTIVE
            ).order_by("id")[:6]
        )
        offers = actions.offers_for(people[0], counsellor=counsellor) if people else []
        for person, offer in zip(people[:3], rng.sample(offers, min(3, len(offers))), strict=False):
            try:
                actions.book(
                    acting_user=counsellor,
                    person=person,
                    counsellor=counsellor,
                    starts_at=offer.start,
                )
            except ValidationError:
                continue
        for n, person in enumerate(people[3:5]):
            start = datetime.combine(today - timedelta(days=7 + n), time(9), tzinfo=zone)
            Appointment.objects.create(
                unit=unit,
                counsellor=counsellor,
                person=person,
                starts_at=start,
                ends_at=start + timedelta(minutes=50),
                location="社区心理咨询室",
                status=AppointmentStatus.ATTENDED if n == 0 else AppointmentStatus.NO_SHOW,
                channel=Channel.STAFF,
                booked_by=counsellor,
                closed_at=timezone.now(),
                closed_by=counsellor,
            )
