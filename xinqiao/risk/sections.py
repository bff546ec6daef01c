"""The risk-signal section of a person's file page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import Person
from xinqiao.people.sections import FileSection
from xinqiao.risk.models import RiskSignal

OBJECT_LINKS = {"assessments.assessment": "assessments:detail"}


def signals_context(request: HttpRequest, person: Person) -> dict[str, Any] | None:
    from django.urls import reverse

    if not can(request.user, Action.ASSESSMENT_VIEW, person.unit):
        return None
    signals = list(RiskSignal.objects.filter(person=person)[:20])
    for signal in signals:
        name = OBJECT_LINKS.get(signal.object_type)
        signal.link = (  # type: ignore[attr-defined]
            reverse(name, kwargs={"assessment_id": signal.object_id}) if name else ""
        )
    return {"signals": signals}


SECTION = FileSection(name="risk", template="risk/_file_section.html", context=signals_context)
