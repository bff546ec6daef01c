"""The follow-up section of a person's file page: the plan, recent visits, "record a visit".

Visit content (assessment, counselling, guidance, the note on the state) is shown to those
who read assessment results (ASSESSMENT_VIEW) and to the visitor who wrote it; grid workers
and others with FOLLOWUP_VIEW see date, mode, visitor, outcome, toolkit and state
(need-to-know, R-PRIVACY).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from xinqiao.followups import schedule
from xinqiao.followups.access import sees_content
from xinqiao.followups.actions import under_service
from xinqiao.followups.models import FollowUpPlan, FollowUpVisit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import Person
from xinqiao.people.sections import FileSection


def followup_context(request: HttpRequest, person: Person) -> dict[str, Any] | None:
    user = request.user
    if not can(user, Action.FOLLOWUP_VIEW, person.unit):
        return None
    today = timezone.localdate()
    plan = FollowUpPlan.objects.filter(person=person).select_related("responsible").first()
    visits = list(
        FollowUpVisit.objects.filter(person=person).select_related("visitor", "assessment")[:10]
    )
    for visit in visits:
        visit.show_content = sees_content(user, visit)  # type: ignore[attr-defined]
    return {
        "person": person,
        "plan": plan,
        "overdue_by": schedule.overdue_days(due=plan.next_due, today=today) if plan else 0,
        "visits": visits,
        "can_record": can(user, Action.FOLLOWUP_RECORD, person.unit) and under_service(person),
    }


SECTION = FileSection(
    name="followup", template="followups/_file_section.html", context=followup_context
)
