"""The risk section of a person's file page: level, active alert, signals, level history."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.people.models import FileStatus, Person
from xinqiao.people.sections import FileSection
from xinqiao.risk.models import (
    ACTIVE_ALERT_STATUSES,
    Alert,
    PersonRisk,
    RiskLevelChange,
    RiskSignal,
)

# Where a signal's source object is shown (its URL name and keyword).
OBJECT_LINKS = {
    "assessments.assessment": ("assessments:detail", "assessment_id"),
    "referrals.referral": ("referrals:detail", "referral_id"),
}


def signals_context(request: HttpRequest, person: Person) -> dict[str, Any] | None:
    user = request.user
    sees = can(user, Action.ALERT_VIEW, person.unit)
    reports = can(user, Action.CONCERN_REPORT, person.unit) and person.status == FileStatus.ACTIVE
    if not sees and not reports:
        return None
    context: dict[str, Any] = {
        "person": person,
        "can_report": reports,
        "can_set_level": can(user, Action.RISK_LEVEL_SET, person.unit),
        "can_register_smi": can(user, Action.SMI_MANAGE, person.unit) and reports,
    }
    if not sees:
        return context
    signals = list(RiskSignal.objects.filter(person=person)[:20])
    for signal in signals:
        target = OBJECT_LINKS.get(signal.object_type)
        signal.link = (  # type: ignore[attr-defined]
            reverse(target[0], kwargs={target[1]: signal.object_id}) if target else ""
        )
    context.update(
        {
            "risk": PersonRisk.objects.filter(person=person).select_related("responsible").first(),
            "alerts": Alert.objects.filter(
                person=person, status__in=[s.value for s in ACTIVE_ALERT_STATUSES]
            ),
            "signals": signals,
            "changes": RiskLevelChange.objects.filter(person=person).select_related("changed_by")[
                :20
            ],
        }
    )
    return context


SECTION = FileSection(name="risk", template="risk/_file_section.html", context=signals_context)
