"""The counselling section of a person's file: sessions that took place; the case-record
content only for SESSION_NOTES_VIEW (clinical roles), and each such read is logged."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xinqiao.counselling.access import log_content_read
from xinqiao.counselling.models import SessionParticipant
from xinqiao.counselling.outcomes import person_outcomes
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, scope_paths
from xinqiao.people.models import FileStatus, Person
from xinqiao.people.sections import FileSection


def counselling_context(request: HttpRequest, person: Person) -> dict[str, Any] | None:
    user = request.user
    if not can(user, Action.SESSION_VIEW, person.unit):
        return None
    rows = list(
        SessionParticipant.objects.filter(person=person)
        .select_related("session__counsellor", "session__unit")
        .order_by("-session__held_at")[:20]
    )
    notes_paths = scope_paths(user, Action.SESSION_NOTES_VIEW)
    view_paths = scope_paths(user, Action.SESSION_VIEW)
    any_content = False
    for row in rows:
        unit_path = row.session.unit.path
        row.content = any(unit_path.startswith(p) for p in notes_paths)  # type: ignore[attr-defined]
        row.openable = any(unit_path.startswith(p) for p in view_paths)  # type: ignore[attr-defined]
        if row.content:  # type: ignore[attr-defined]
            any_content = True
            log_content_read(request, row.session, reason="person file")
    return {
        "person": person,
        "rows": rows,
        "content": any_content,
        "outcomes": person_outcomes(person) if any_content else None,
        "can_record": person.status == FileStatus.ACTIVE
        and can(user, Action.SESSION_RECORD, person.unit),
    }


SECTION = FileSection(
    name="counselling", template="counselling/_file_section.html", context=counselling_context
)
