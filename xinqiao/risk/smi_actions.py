"""Writes of severe-mental-disorder management (R-SMI): registration and follow-ups.

Each follow-up records the risk grade and findings; ``smi.assess`` gives the status and the
next follow-up (the national schedule); a grade of 1 or more is a risk signal in the same
transaction (``risk.actions.raise_signal``: grade 4–5 is a crisis). An unstable patient is to
be referred to a higher hospital at once — the follow-up page then offers the green-channel
referral.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.audit.log import acting
from xinqiao.followups.actions import contact_made, reschedule
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import require
from xinqiao.people.events import record_event
from xinqiao.people.models import EventKind, FileStatus, Person
from xinqiao.risk import smi
from xinqiao.risk.actions import raise_signal
from xinqiao.risk.models import (
    Compliance,
    CustodyMember,
    CustodyRole,
    Insight,
    PhysicalIllness,
    Severity3,
    SignalSource,
    SmiDiagnosis,
    SmiFollowUp,
    SmiPatient,
    SmiStatus,
    SocialFunction,
    Symptoms,
)

# The first follow-up after registration: within two weeks, the schedule's shortest interval
# (smi.py; the status is not known until that follow-up assesses it).
FIRST_FOLLOWUP_DAYS = smi.NOT_STABLE_DAYS


@transaction.atomic
def register_smi_patient(
    *,
    acting_user: Any,
    person: Person,
    diagnosis: str,
    diagnosed_on: date | None = None,
    guardian_name: str = "",
    guardian_phone: str = "",
    custody: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
) -> SmiPatient:
    """Register ``person`` for SMI management, with the custody group (监护小组)."""
    require(acting_user, Action.SMI_MANAGE, person.unit)
    if person.status != FileStatus.ACTIVE:
        raise ValidationError({"person": _("This file is not active.")})
    if diagnosis not in SmiDiagnosis.values:
        raise ValidationError({"diagnosis": _("Choose a diagnosis from the list.")})
    if diagnosed_on is not None and diagnosed_on > timezone.localdate():
        raise ValidationError({"diagnosed_on": _("The date is in the future.")})
    if SmiPatient.objects.filter(person=person).exists():
        raise ValidationError({"person": _("This person is registered already.")})
    for name, role, _phone in custody:
        if not name.strip() or role not in CustodyRole.values:
            raise ValidationError(
                {"custody": _("Give each member of the group a name and a role.")}
            )
    with acting(acting_user):
        patient = SmiPatient.objects.create(
            person=person,
            diagnosis=diagnosis,
            diagnosed_on=diagnosed_on,
            guardian_name=guardian_name.strip(),
            guardian_phone=guardian_phone.strip(),
            next_followup_due=timezone.localdate() + timedelta(days=FIRST_FOLLOWUP_DAYS),
            registered_by=acting_user,
        )
        for name, role, phone in custody:
            CustodyMember.objects.create(
                patient=patient, name=name.strip(), role=role, phone=phone.strip()
            )
    record_event(
        person=person,
        kind=EventKind.FOLLOWUP,
        actor=acting_user,
        obj=patient,
        summary=_("Registered for severe mental disorder management"),
    )
    reschedule(person=person, reason=_("SMI registration"), actor=acting_user)
    return patient


@transaction.atomic
def record_smi_followup(
    *,
    acting_user: Any,
    patient: SmiPatient,
    on: date,
    risk_grade: int,
    symptoms: str,
    insight: str,
    social_function: str,
    adverse_reaction: str,
    physical_illness: str,
    compliance: str,
    medication: str = "",
    adverse_effects: str = "",
    guidance: str = "",
) -> SmiFollowUp:
    """One follow-up: the status and the next date follow from the findings (smi.py)."""
    patient = (
        SmiPatient.objects.select_for_update().select_related("person__unit").get(pk=patient.pk)
    )
    require(acting_user, Action.SMI_MANAGE, patient.person.unit)
    if on > timezone.localdate():
        raise ValidationError({"on": _("The date is in the future.")})
    if risk_grade not in smi.GRADES:
        raise ValidationError({"risk_grade": _("Choose a risk grade from 0 to 5.")})
    choices = {
        "symptoms": (symptoms, Symptoms.values),
        "insight": (insight, Insight.values),
        "social_function": (social_function, SocialFunction.values),
        "adverse_reaction": (adverse_reaction, Severity3.values),
        "physical_illness": (physical_illness, PhysicalIllness.values),
        "compliance": (compliance, Compliance.values),
    }
    for field, (value, allowed) in choices.items():
        if value not in allowed:
            raise ValidationError({field: _("Choose from the list.")})
    outcome = smi.assess(
        smi.Findings(
            grade=risk_grade,
            symptoms=symptoms,
            insight=insight,
            social_function=social_function,
            adverse_reaction=adverse_reaction,
            physical_illness=physical_illness,
        )
    )
    next_due = on + timedelta(days=outcome.next_days)
    with acting(acting_user):
        followup = SmiFollowUp.objects.create(
            patient=patient,
            date=on,
            risk_grade=risk_grade,
            symptoms=symptoms,
            insight=insight,
            social_function=social_function,
            adverse_reaction=adverse_reaction,
            physical_illness=physical_illness,
            compliance=compliance,
            medication=medication.strip(),
            adverse_effects=adverse_effects.strip(),
            guidance=guidance.strip(),
            status=outcome.status,
            next_due=next_due,
            recorded_by=acting_user,
        )
        patient.status = outcome.status
        patient.risk_grade = risk_grade
        patient.next_followup_due = next_due
        patient.save(update_fields=["status", "risk_grade", "next_followup_due"])
    # The follow-up plan: the status sets the interval, and this follow-up is a contact.
    reschedule(person=patient.person, reason=_("SMI follow-up"), actor=acting_user)
    contact_made(person=patient.person, on=on, actor=acting_user)
    record_event(
        person=patient.person,
        kind=EventKind.FOLLOWUP,
        actor=acting_user,
        obj=followup,
        summary=_("SMI follow-up: grade %(grade)d, %(status)s")
        % {"grade": risk_grade, "status": SmiStatus(outcome.status).label},
    )
    if risk_grade >= 1 or outcome.status == SmiStatus.UNSTABLE:
        raise_signal(
            person=patient.person,
            unit=patient.person.unit,
            source=SignalSource.SMI_GRADE,
            facts={"grade": risk_grade, "status": outcome.status},
            obj=followup,
            actor=acting_user,
        )
    return followup


def followups_in_last_year(patient: SmiPatient, today: date) -> int:
    return patient.followups.filter(date__gt=today - timedelta(days=365)).count()
