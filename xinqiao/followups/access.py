"""Who sees follow-up plans and visits: one place, 404 outside scope (R-PRIVACY)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xinqiao.followups.models import FollowUpPlan, FollowUpVisit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, get_or_404, require_confidentiality_agreement, scoped
from xinqiao.people.models import FileStatus


def plans_in_scope(user: Any, action: Action = Action.FOLLOWUP_VIEW) -> QuerySet[FollowUpPlan]:
    """Plans of the people under service in the user's area."""
    return scoped(
        FollowUpPlan.objects.filter(person__status=FileStatus.ACTIVE, person__is_deceased=False),
        user,
        action,
    ).select_related("person__unit__parent", "responsible")


def access_visit(user: Any, visit_id: Any) -> FollowUpVisit:
    visit = get_or_404(
        scoped(FollowUpVisit.objects.all(), user, Action.FOLLOWUP_VIEW).select_related(
            "person__unit", "visitor", "assessment"
        ),
        visit_id,
    )
    require_confidentiality_agreement(user)
    return visit


def sees_content(user: Any, visit: FollowUpVisit) -> bool:
    """The content of a visit (assessment, counselling, guidance, the note on the state) is
    health data: for those who read assessment results in the person's unit, and for the
    visitor who wrote it. Others who serve the person (grid workers) see the date, mode,
    outcome, toolkit and state."""
    return visit.visitor_id == getattr(user, "pk", None) or can(
        user, Action.ASSESSMENT_VIEW, visit.person.unit
    )
