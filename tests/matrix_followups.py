"""The followups objects and rules of the scope matrix (tests/test_scope_matrix.py)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    """URL parameter name → an object of this app belonging to ``unit`` (and ``person``,
    created by ``staff``, the unit's counsellor)."""
    from xinqiao.followups.actions import record_visit

    visit = record_visit(
        acting_user=staff,
        person=person,
        visited_on=timezone.localdate(),
        mode="phone",
        outcome="reached",
        state="stable",
    )
    return {"visit_id": visit}


def skip_inside(route: str, user: Any) -> bool:
    """True for a route this app's tests cover instead (need-to-know pages the persona's role
    does not open even inside its scope)."""
    return False
