"""Writes of follow-up (R-FOLLOW): plans, visits, contacts, escalation.

``reschedule`` keeps a person's plan in step with what sets its interval (risk level, SMI
status, the bereaved-family group; ``schedule.interval``); the apps that change those call it
in their transaction. ``record_visit`` records a visit or an attempt; ``contact_made`` is for
other apps whose contact with the person counts as a follow-up (a crisis contact, a
counselling session). The plan is the one source of the person's next due date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao.audit.log import acting
from xinqiao.concurrency import check_version
from xinqiao.followups import schedule
from xinqiao.followups.models import (
    CurrentState,
    FollowUpPlan,
    FollowUpVisit,
    Toolkit,
    VisitMode,
    VisitOutcome,
)
from xinqiao.orgs.models import Membership
from xinqiao.orgs.permissions import Action, role_allows
from xinqiao.orgs.scope import can, require
from xinqiao.people.events import record_event
from xinqiao.people.models import EventKind, FileStatus, GroupMembership, Person, TargetGroup


def under_service(person: Person) -> bool:
    """A person under service: an active file of a living person."""
    return person.status == FileStatus.ACTIVE and not person.is_deceased


def interval_for(person: Person, today: date | None = None) -> schedule.Interval:
    """The person's interval from their risk level, SMI status and groups (schedule.py)."""
    from xinqiao.risk import smi
    from xinqiao.risk.actions import response_for
    from xinqiao.risk.models import PersonRisk, SmiPatient, SmiStatus

    today = today or timezone.localdate()
    risk = PersonRisk.objects.filter(person=person).only("level").first()
    level_days = response_for(person.unit, risk.level).followup_days if risk else None
    patient = SmiPatient.objects.filter(person=person).only("status").first()
    smi_days = None
    if patient is not None:  # the national schedule (xinqiao.risk.smi)
        smi_days = smi.STABLE_DAYS if patient.status == SmiStatus.STABLE else smi.NOT_STABLE_DAYS
    # seed 002 篇6 三(三)1 定期评估病亡者家属心理健康状况
    bereaved = (
        GroupMembership.objects.filter(
            person=person, group=TargetGroup.FAMILY_OF_DECEASED, date_from__lte=today
        )
        .exclude(date_to__lt=today)
        .exists()
    )
    return schedule.interval(level_days=level_days, smi_days=smi_days, bereaved=bereaved)


def _smi_due(person: Person) -> date | None:
    from xinqiao.risk.models import SmiPatient

    return (
        SmiPatient.objects.filter(person=person).values_list("next_followup_due", flat=True).first()
    )


def _default_responsible(person: Person, actor: Any) -> Any:
    from xinqiao.risk.models import PersonRisk

    risk = PersonRisk.objects.filter(person=person).select_related("responsible").first()
    if risk is not None and risk.responsible is not None and risk.responsible.is_active:
        return risk.responsible
    if getattr(actor, "is_authenticated", False) and can(
        actor, Action.FOLLOWUP_RECORD, person.unit
    ):
        return actor
    return None


def _due(plan: FollowUpPlan, person: Person) -> date:
    """The plan's next due date from its last contact; the national SMI visits form's own
    date (SmiPatient.next_followup_due) is honoured when it is sooner."""
    due = schedule.next_due(
        last_contact=plan.last_contact_on, changed_on=plan.changed_on, days=plan.interval_days
    )
    smi_due = _smi_due(person)
    if smi_due is not None:
        due = max(plan.changed_on, min(due, smi_due))
    return due


def reschedule(*, person: Person, reason: str, actor: Any = None) -> FollowUpPlan | None:
    """Create or update the person's plan (None for a person not under service: their plan,
    if any, stays as it was). In the caller's transaction."""
    with transaction.atomic():
        plan = FollowUpPlan.objects.select_for_update().filter(person=person).first()
        if not under_service(person):
            return plan
        today = timezone.localdate()
        rule = interval_for(person, today)
        if plan is None:
            plan = FollowUpPlan(
                person=person,
                interval_days=rule.days,
                rule=rule.rule,
                changed_on=today,
                reason=reason[:200],
                responsible=_default_responsible(person, actor),
            )
            plan.next_due = _due(plan, person)
            plan.save(force_insert=True)
            return plan
        if plan.interval_days == rule.days and plan.rule == rule.rule:
            due = _due(plan, person) if not plan.failed_in_a_row else plan.next_due
            if due != plan.next_due:
                plan.next_due = due
                plan.save(update_fields=["next_due", "updated_at"])
            return plan
        plan.interval_days = rule.days
        plan.rule = rule.rule
        plan.changed_on = today
        plan.reason = reason[:200]
        due = _due(plan, person)
        if plan.failed_in_a_row:  # a retry after "could not reach" that is sooner stays
            due = max(today, min(due, plan.next_due))
        plan.next_due = due
        if plan.responsible is None:
            plan.responsible = _default_responsible(person, actor)
        plan.save()
        return plan


def contact_made(*, person: Person, on: date, actor: Any = None) -> FollowUpPlan | None:
    """Someone reached the person on ``on`` (a crisis contact, a counselling session …): it
    counts as a follow-up — the next one is due an interval later."""
    with transaction.atomic():
        plan = FollowUpPlan.objects.select_for_update().filter(person=person).first()
        if plan is None:
            plan = reschedule(person=person, reason="contact", actor=actor)
            if plan is None:
                return None
        if plan.last_contact_on is not None and on < plan.last_contact_on:
            return plan
        plan.last_contact_on = on
        plan.failed_in_a_row = 0
        plan.escalated_at = None
        plan.next_due = _due(plan, person)
        plan.save(update_fields=["last_contact_on", "failed_in_a_row", "escalated_at", "next_due"])
        return plan


# What a visit form shows of the plan and a visit changes: a change to one of these since the
# form was read makes the visit stale.
PLAN_FIELDS = ("next_due", "last_contact_on", "interval_days", "failed_in_a_row", "responsible")


def _field(name: str, message: str) -> ValidationError:
    return ValidationError({name: message})


@transaction.atomic
def record_visit(
    *,
    acting_user: Any,
    person: Person,
    visited_on: date,
    mode: str,
    outcome: str,
    next_due: date | None = None,
    assessment: Any = None,
    counselling: str = "",
    guidance: str = "",
    toolkit: Iterable[str] = (),
    state: str = CurrentState.UNKNOWN,
    state_note: str = "",
    expected_version: int | None = None,
    read_digests: str = "",
) -> FollowUpVisit:
    """A follow-up visit (MISSION.md R-FOLLOW): seed 000 二(五) 随访时记录心理测评、心理疏导
    情况，并给予相应的健康指导 — the assessment, counselling and health guidance given — and
    the next date. "Could not reach" keeps the follow-up open: the next attempt is due
    soon and after repeated failures the supervisors are told (schedule.after_unreached).
    No consent is needed for a visit; the person must be in the user's scope.

    A visit reschedules the plan: with ``expected_version`` (the plan's version when the form
    was read, issue #10 item 5) it is refused when someone changed the plan since — another
    visit recorded meanwhile — (``xinqiao.concurrency.StaleEdit``, naming PLAN_FIELDS that
    changed), so that nobody's next date is overwritten unseen."""
    require(acting_user, Action.FOLLOWUP_RECORD, person.unit)
    person = Person.objects.select_related("unit").get(pk=person.pk)
    if not under_service(person):
        raise _field("person", _("This person is not under service (file not active)."))
    today = timezone.localdate()
    if mode not in VisitMode.values:
        raise _field("mode", _("Choose how the follow-up was made."))
    if outcome not in VisitOutcome.values:
        raise _field("outcome", _("Choose whether the person was reached."))
    if visited_on is None or visited_on > today:
        raise _field("visited_on", _("The date is in the future."))
    chosen = sorted(set(toolkit or ()))
    if not set(chosen) <= set(Toolkit.values):
        raise _field("toolkit", _("Choose from the list."))
    if state not in CurrentState.values:
        raise _field("state", _("Choose from the list."))
    counselling, guidance, state_note = (
        (counselling or "").strip(),
        (guidance or "").strip(),
        (state_note or "").strip(),
    )
    reached = outcome == VisitOutcome.REACHED
    if not reached and (assessment is not None or counselling or guidance or chosen):
        raise _field(
            "outcome", _("Nobody was reached: record no assessment, counselling or toolkit.")
        )
    if assessment is not None and assessment.person_id != person.pk:
        raise _field("assessment", _("This assessment is not this person's."))
    if expected_version is not None:
        current = FollowUpPlan.objects.select_for_update().filter(person=person).first()
        if current is not None:
            check_version(
                current, expected=expected_version, token=read_digests, fields=PLAN_FIELDS
            )
    plan = reschedule(person=person, reason=_("Follow-up visit"), actor=acting_user)
    if plan is None:  # not under service: checked above
        raise _field("person", _("This person is not under service (file not active)."))
    plan = FollowUpPlan.objects.select_for_update().get(pk=plan.pk)
    previous = plan.visits.order_by("-visited_on").first()
    before = _("A follow-up date before the previous one (%(date)s).")
    if previous is not None and visited_on < previous.visited_on:
        raise _field("visited_on", before % {"date": f"{previous.visited_on:%Y-%m-%d}"})
    if next_due is not None:
        if next_due < visited_on:
            raise _field("next_due", _("The next follow-up is before this visit."))
        if previous is not None and next_due < previous.visited_on:
            raise _field("next_due", before % {"date": f"{previous.visited_on:%Y-%m-%d}"})
        latest = visited_on + schedule_days(plan)
        if next_due > latest:
            raise _field(
                "next_due",
                _("No later than %(date)s: the plan follows up every %(days)d days.")
                % {"date": f"{latest:%Y-%m-%d}", "days": plan.interval_days},
            )
    escalate = False
    if reached:
        due = next_due or schedule.next_due(
            last_contact=visited_on, changed_on=visited_on, days=plan.interval_days
        )
        plan.failed_in_a_row = 0
        plan.escalated_at = None
        if plan.last_contact_on is None or visited_on >= plan.last_contact_on:
            plan.last_contact_on = visited_on
    else:
        plan.failed_in_a_row += 1
        retry = schedule.after_unreached(
            attempted_on=visited_on, failed_in_a_row=plan.failed_in_a_row, days=plan.interval_days
        )
        due = min(next_due, retry.due) if next_due else retry.due
        escalate = retry.escalate and plan.escalated_at is None
    plan.next_due = max(plan.changed_on, due)
    if plan.responsible is None:
        plan.responsible = acting_user
    with acting(acting_user):
        visit = FollowUpVisit.objects.create(
            plan=plan,
            person=person,
            visited_on=visited_on,
            mode=mode,
            visitor=acting_user,
            outcome=outcome,
            assessment=assessment,
            counselling=counselling,
            guidance=guidance,
            toolkit=chosen,
            state=state if reached else CurrentState.UNKNOWN,
            state_note=state_note,
            next_due=due,
        )
        if escalate:
            plan.escalated_at = timezone.now()
        plan.save()
    record_event(
        person=person,
        kind=EventKind.FOLLOWUP,
        actor=acting_user,
        obj=visit,
        summary=_("Follow-up (%(mode)s): %(outcome)s")
        % {"mode": VisitMode(mode).label, "outcome": VisitOutcome(outcome).label},
    )
    if escalate:
        _escalate(plan, person)
    return visit


def schedule_days(plan: FollowUpPlan) -> Any:
    from datetime import timedelta

    return timedelta(days=plan.interval_days)


def supervisors_of(person: Person, *, exclude: Iterable[Any] = ()) -> list[Any]:
    """Those with FOLLOWUP_OVERSEE whose scope covers the person's unit, at the nearest unit
    up the tree that has any (the community, else the street, the district, the city)."""
    skip = {getattr(u, "pk", None) for u in exclude}
    rows = (
        Membership.objects.filter(unit__path__in=person.unit.ancestor_paths(), user__is_active=True)
        .select_related("user", "unit")
        .order_by("-unit__depth", "user__username")
    )
    by_depth: dict[int, list[Any]] = {}
    for m in rows:
        if role_allows(m.role, Action.FOLLOWUP_OVERSEE) and m.user_id not in skip:
            by_depth.setdefault(m.unit.depth, [])
            if m.user not in by_depth[m.unit.depth]:
                by_depth[m.unit.depth].append(m.user)
    if not by_depth:
        return []
    return by_depth[max(by_depth)]


def _escalate(plan: FollowUpPlan, person: Person) -> None:
    """After repeated failed attempts (schedule.UNREACHED_ESCALATE_AFTER): the responsible
    worker's supervisors are told, once (until the person is reached again)."""
    from xinqiao.notify.actions import notify

    recipients = supervisors_of(person, exclude=[plan.responsible] if plan.responsible else [])
    url = reverse("people:detail", kwargs={"person_id": person.pk}) + "#followup"
    by_language: dict[str, list[Any]] = {}
    for user in recipients:
        by_language.setdefault(user.language or "zh-hans", []).append(user)
    for language, users in by_language.items():
        with translation.override(language):
            values = {"n": plan.failed_in_a_row}
            subject = _("Follow-up: a person could not be reached %(n)d times") % values
            body = (
                _(
                    "A follow-up has failed %(n)d times in a row. Open the file to decide what "
                    "to do."
                )
                % values
            )
        notify(recipients=users, subject=str(subject), body=str(body), url=url, obj=plan)
    record_event(
        person=person,
        kind=EventKind.FOLLOWUP,
        actor=None,
        obj=plan,
        summary=_("Follow-up escalated to the supervisor after %(n)d failed attempts")
        % {"n": plan.failed_in_a_row},
    )


def erase_visits(person: Person) -> None:
    """Erasure (people.actions.ERASURE_STEPS): the visits' free text goes."""
    FollowUpVisit.objects.filter(person=person).update(counselling="", guidance="", state_note="")
