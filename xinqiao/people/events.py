"""Appending to a person's timeline, and finding the page an event points at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.urls import NoReverseMatch, reverse

from xinqiao.people.models import Person, PersonEvent

# object_type → function(event) → URL; later capabilities register theirs here.
EVENT_LINKS: dict[str, Callable[[PersonEvent], str]] = {}


def record_event(
    *, person: Person, kind: str, actor: Any, summary: str = "", obj: Model | None = None
) -> PersonEvent:
    return PersonEvent.objects.create(
        person=person,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        summary=summary[:300],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )


def event_link(event: PersonEvent) -> str:
    link = EVENT_LINKS.get(event.object_type)
    if link is None:
        return ""
    try:
        return link(event)
    except NoReverseMatch:
        return ""


def _on_file(section: str) -> Callable[[PersonEvent], str]:
    def link(event: PersonEvent) -> str:
        return reverse("people:detail", kwargs={"person_id": event.person_id}) + f"#{section}"

    return link


EVENT_LINKS.update(
    {
        "people.person": _on_file("top"),
        "people.groupmembership": _on_file("groups"),
        "people.hospitalstay": _on_file("hospital"),
        "people.isolationrecord": _on_file("isolation"),
        "people.familylink": _on_file("family"),
        "people.consent": _on_file("consent"),
        "people.transfer": _on_file("transfers"),
    }
)
