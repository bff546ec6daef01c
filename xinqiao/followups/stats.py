"""Overdue rates for the reports (R-FOLLOW: overdue rates feed the reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from xinqiao.orgs.models import Unit
from xinqiao.people.models import FileStatus, Person


@dataclass(frozen=True)
class OverdueRate:
    under_service: int
    overdue: int

    @property
    def rate(self) -> float | None:
        return self.overdue / self.under_service if self.under_service else None


def overdue_rate(unit: Unit, today: date) -> OverdueRate:
    """People under service in ``unit``'s subtree with an overdue follow-up / people under
    service there (a person without a plan yet counts as under service, not overdue)."""
    people = Person.objects.filter(
        unit__path__startswith=unit.path, status=FileStatus.ACTIVE, is_deceased=False
    )
    return OverdueRate(
        under_service=people.count(),
        overdue=people.filter(Q(followup_plan__next_due__lt=today)).count(),
    )


def overdue_rates(units: list[Unit], today: date) -> dict[object, OverdueRate]:
    return {u.pk: overdue_rate(u, today) for u in units}
