"""The followups objects and rules of the scope matrix (tests/test_scope_matrix.py)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    """URL parameter name → an object of this app belonging to ``unit`` (and ``person``,
    created by ``staff``, the unit's counsellor)."""
    from xinqiao.followups.models import FollowUpPlan, FollowUpVisit

    today = timezone.localdate()
    plan, _created = FollowUpPlan.objects.get_or_create(
        person=person,
        defaults={
            "interval_days": 30,
            "rule": "risk_level",
            "changed_on": today,
            "next_due": today,
        },
    )
    visit = FollowUpVisit.objects.create(
        plan=plan,
        person=person,
        visited_on=today,
        mode="phone",
        visitor=staff,
        outcome="reached",
        guidance="矩阵测试",
        state="stable",
        next_due=today,
    )
    return {"visit_id": visit}


def skip_inside(route: str, user: Any) -> bool:
    """True for a route this app's tests cover instead (need-to-know pages the persona's role
    does not open even inside its scope): recording a visit is for those who may record one,
    reading one for those who see follow-ups (tests/test_followups.py covers both)."""
    from xinqiao.orgs.permissions import Action
    from xinqiao.orgs.scope import can

    if route.startswith("/followups/people/"):
        return not can(user, Action.FOLLOWUP_RECORD)
    if route.startswith("/followups/"):
        return not can(user, Action.FOLLOWUP_VIEW)
    return False
