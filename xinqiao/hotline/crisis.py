"""A call or message at risk raises its signal through the risk app (R-CRISIS), at once.

Shared by calls and mailbox messages. A high-risk contact with no person file gets an unnamed
file at the receiving unit (``Person.unnamed_contact``), named by the contact's number, so the
crisis alert has a file to follow: handlers, acknowledgement deadline, escalation up the tree
and follow-up all work as for any alert (risk.actions). Medium without a file stays a signal
counted for the unit (nobody to reach but the writer, whose message comes first in the queue).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from xinqiao.orgs.models import Unit
from xinqiao.people.events import record_event
from xinqiao.people.models import EventKind, Person, Sex
from xinqiao.risk import actions as risk_actions
from xinqiao.risk.models import Alert, AlertStatus, RiskSignal


def unnamed_file(*, unit: Unit, label: str, sex: str = Sex.UNKNOWN, actor: Any = None) -> Person:
    """An unnamed file for an anonymous contact (no name, no document, no phone)."""
    person = Person.objects.create(
        unit=unit,
        name=label[:100],
        sex=sex if sex in Sex.values else Sex.UNKNOWN,
        unnamed_contact=True,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_event(
        person=person,
        kind=EventKind.CREATED,
        actor=actor,
        obj=person,
        summary=_("Opened for an anonymous contact at risk"),
    )
    return person


def raise_contact_signal(
    *,
    obj: models.Model,
    unit: Unit,
    person: Person | None,
    source: str,
    facts: dict[str, Any],
    actor: Any = None,
    unnamed_label: str = "",
    sex: str = Sex.UNKNOWN,
) -> tuple[RiskSignal, Person | None, Alert | None]:
    """Raise the signal of ``obj``; ``person`` is opened unnamed when the signal would raise
    an alert and nobody is linked (``unnamed_label`` given). Call inside the caller's
    transaction. Returns the signal, the person (linked or opened) and the active alert."""
    from xinqiao.risk import rules

    if person is None and unnamed_label:
        decision = rules.evaluate({**facts, "source": source})
        level = decision.level if decision else rules.GENERAL
        if risk_actions.response_for(unit, level).alert:
            person = unnamed_file(unit=unit, label=unnamed_label, sex=sex, actor=actor)
    signal = risk_actions.raise_signal(
        person=person, unit=unit, source=source, facts=facts, obj=obj, actor=actor
    )
    alert = None
    if person is not None:
        alert = (
            Alert.objects.filter(
                person=person,
                status__in=[
                    AlertStatus.OPEN,
                    AlertStatus.ACKNOWLEDGED,
                    AlertStatus.IN_INTERVENTION,
                ],
            )
            .order_by("-created_at")
            .first()
        )
    return signal, person, alert
