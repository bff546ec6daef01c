"""Demo follow-ups (generated data): plans for every demo person, a few visits."""

from __future__ import annotations

import random
from datetime import date, timedelta

from xinqiao.followups.actions import record_visit
from xinqiao.followups.models import CurrentState, FollowUpPlan, Toolkit, VisitMode, VisitOutcome
from xinqiao.followups.tasks import ensure_plans
from xinqiao.orgs.models import Membership
from xinqiao.orgs.permissions import Action, role_allows


def populate(today: date) -> None:
    """Plans for everyone under service; for about a third of them one or two visits by a
    worker of their community (some could not reach the person), in the last 60 days."""
    rng = random.Random(6)  # noqa: S311 -- reproducible demo data, not security
    ensure_plans()
    plans = list(FollowUpPlan.objects.select_related("person__unit__parent").order_by("id"))
    for plan in plans[::3]:
        person = plan.person
        community = person.unit.parent if person.unit.kind == "grid" else person.unit
        visitor = next(
            (
                m.user
                for m in Membership.objects.filter(unit=community, user__is_active=True)
                .select_related("user")
                .order_by("user__username")
                if role_allows(m.role, Action.FOLLOWUP_RECORD)
            ),
            None,
        )
        if visitor is None:
            continue
        on = today - timedelta(days=rng.randrange(20, 60))
        for _ in range(rng.choice([1, 2])):
            reached = rng.random() < 0.8
            record_visit(
                acting_user=visitor,
                person=person,
                visited_on=on,
                mode=rng.choice(VisitMode.values),
                outcome=VisitOutcome.REACHED if reached else VisitOutcome.COULD_NOT_REACH,
                toolkit=rng.sample(Toolkit.values, rng.choice([0, 1, 2])) if reached else [],
                guidance="（演示）作息规律，适量运动。" if reached else "",
                state=rng.choice(
                    [CurrentState.STABLE, CurrentState.IMPROVING, CurrentState.UNCHANGED]
                )
                if reached
                else CurrentState.UNKNOWN,
            )
            on = min(today, on + timedelta(days=rng.randrange(3, 15)))
