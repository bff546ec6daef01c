"""The assessments section of a person's file page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from xinqiao.assessments.models import Assessment, AssessmentStatus, Invitation
from xinqiao.instruments.change import CRITERIA, Change, classify
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import FileStatus, Person
from xinqiao.people.sections import FileSection


def assessments_context(request: HttpRequest, person: Person) -> dict[str, Any] | None:
    user = request.user
    if not can(user, Action.ASSESSMENT_VIEW, person.unit):
        return None
    active = person.status == FileStatus.ACTIVE
    can_invite = active and can(user, Action.ASSESSMENT_INVITE, person.unit)
    return {
        "person": person,
        "assessments": Assessment.objects.filter(person=person).order_by(
            "-completed_at", "-started_at"
        )[:20],
        "invitations": list(
            Invitation.objects.filter(
                person=person,
                used_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
            )[:10]
        )
        if can_invite
        else [],
        "changes": changes_of(person),
        "can_administer": active and can(user, Action.ASSESSMENT_ADMINISTER, person.unit),
        "can_invite": can_invite,
    }


@dataclass(frozen=True)
class FirstToLatest:
    instrument: str
    first: Assessment
    latest: Assessment
    change: Change


def changes_of(person: Person) -> list[FirstToLatest]:
    """For each instrument with change criteria (PHQ-9, GAD-7) and two or more completed
    results: the first against the latest (issue #6 outcome tracking; the criteria and their
    sources are in ``xinqiao.instruments.change``)."""
    results = Assessment.objects.filter(
        person=person, status=AssessmentStatus.COMPLETED, instrument__in=list(CRITERIA)
    ).order_by("completed_at")
    by_instrument: dict[str, list[Assessment]] = {}
    for result in results:
        by_instrument.setdefault(result.instrument, []).append(result)
    return [
        FirstToLatest(code, rows[0], rows[-1], classify(code, rows[0].total, rows[-1].total))
        for code, rows in sorted(by_instrument.items())
        if len(rows) >= 2 and rows[0].total is not None and rows[-1].total is not None
    ]


SECTION = FileSection(
    name="assessments", template="assessments/_file_section.html", context=assessments_context
)
