"""The referrals section of a person's file page: where the person was referred, and what
came of it (the feedback to the person's community, seed 000 二(六))."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import FileStatus, Person
from xinqiao.people.sections import FileSection
from xinqiao.referrals.access import home_unit, may_open
from xinqiao.referrals.models import Referral


def referrals_context(request: HttpRequest, person: Person) -> dict[str, Any] | None:
    user = request.user
    if not can(user, Action.PERSON_VIEW, person.unit):
        return None
    referrals = list(
        Referral.objects.filter(person=person)
        .select_related("from_unit", "to_unit")
        .order_by("-sent_at")[:20]
    )
    for referral in referrals:
        referral.openable = may_open(user, referral)  # type: ignore[attr-defined]
    return {
        "person": person,
        "referrals": referrals,
        "can_refer": person.status == FileStatus.ACTIVE
        and can(user, Action.REFERRAL_SEND, home_unit(person)),
    }


SECTION = FileSection(
    name="referrals", template="referrals/_file_section.html", context=referrals_context
)
