"""The assessments section of a person's file page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from xinqiao.assessments.models import Assessment, Invitation
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
        "can_administer": active and can(user, Action.ASSESSMENT_ADMINISTER, person.unit),
        "can_invite": can_invite,
    }


SECTION = FileSection(
    name="assessments", template="assessments/_file_section.html", context=assessments_context
)
