"""The counselling objects and rules of the scope matrix (tests/test_scope_matrix.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    """URL parameter name → an object of this app belonging to ``unit`` (and ``person``,
    created by ``staff``, the unit's counsellor)."""
    from xinqiao.counselling.models import Programme, Session, SessionParticipant

    programme = Programme.objects.create(
        unit=unit, name="矩阵团体", starts_on=timezone.localdate() - timedelta(days=30)
    )
    session = Session.objects.create(
        unit=unit,
        kind="individual",
        format="offline",
        held_at=timezone.now() - timedelta(days=1),
        counsellor=staff,
        recorded_by=staff,
        programme=programme,
    )
    participant = SessionParticipant.objects.create(
        session=session, person=person, basic_situation="矩阵测试", advice="矩阵测试"
    )
    return {"session_id": session, "participant_id": participant, "programme_id": programme}


def skip_inside(route: str, user: Any) -> bool:
    """True for a route this app's tests cover instead (need-to-know pages the persona's role
    does not open even inside its scope): sessions and programmes are not there for a role
    without SESSION_VIEW (404, like a missing one); recording a session is for those with
    SESSION_RECORD; correcting a case record for clinical roles (SESSION_NOTES_VIEW)."""
    from xinqiao.orgs.permissions import Action
    from xinqiao.orgs.scope import can

    if not route.startswith("counselling/") and "counselling" not in route:
        return False
    if "participants/" in route:
        return not can(user, Action.SESSION_NOTES_VIEW)
    if "new/" in route:
        return not can(user, Action.SESSION_RECORD)
    return not can(user, Action.SESSION_VIEW)
