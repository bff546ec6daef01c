"""Writes of the risk part: signals, levels, alerts, escalation (R-RISK, R-CRISIS).

``raise_signal`` is the one way in: in the caller's transaction it stores the signal, applies
the rule table, raises the person's level, opens (or joins) a crisis alert at an alerting
level, and writes the alert's notifications and its escalation job (``xinqiao.ops.jobs``) —
so a committed signal always has its alert, and an alert always its deadline, whatever
happens to any process afterwards. An alert nobody acknowledges by its deadline escalates to
the next level of the tree, again and again, until someone does. Every step is timestamped
in ``AlertEvent``. Subscribers (``subscribe``) get each committed signal through a job too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from xinqiao.accounts.models import User
from xinqiao.audit.log import acting
from xinqiao.ops.jobs import enqueue, enqueue_many, handler
from xinqiao.orgs.models import Membership, TeamKind, TeamMember, Unit, UnitKind
from xinqiao.orgs.permissions import ADMIN_ROLES, Action, Role
from xinqiao.orgs.scope import can, require
from xinqiao.people.events import record_event
from xinqiao.people.models import EventKind, FileStatus, Person
from xinqiao.risk import response, rules
from xinqiao.risk.models import (
    Alert,
    AlertEvent,
    AlertEventKind,
    AlertStatus,
    ConcernBehaviour,
    ConcernReport,
    PersonRisk,
    ResponsePolicy,
    RiskLevel,
    RiskLevelChange,
    RiskSignal,
    SignalSource,
)

Subscriber = Callable[[RiskSignal], None]
SUBSCRIBERS: list[Subscriber] = []

# Who handles an alert in the person's own community (R-CRISIS: the responsible counsellor).
HANDLING_ROLES = (
    Role.COUNSELLOR,
    Role.SOCIAL_WORKER,
    Role.PSYCHIATRIST,
    Role.SCHOOL_TEACHER,
    Role.COMMUNITY_WORKER,
)


def subscribe(subscriber: Subscriber) -> Subscriber:
    """Register ``subscriber(signal)``; usable as a decorator."""
    if subscriber not in SUBSCRIBERS:
        SUBSCRIBERS.append(subscriber)
    return subscriber


# --- the response matrix of a city ---------------------------------------------------------


def matrix_for(unit: Unit) -> dict[int, response.Response]:
    """The response matrix of ``unit``'s city: the defaults and the city's changes."""
    city_id = uuid.UUID(unit.path.strip("/").split("/")[0])
    overrides = {
        p.level: {
            "alert": p.alert,
            "ack_minutes": p.ack_minutes,
            "notify_team": p.notify_team,
            "notify_street": p.notify_street,
            "action": p.action,
            "followup_days": p.followup_days,
        }
        for p in ResponsePolicy.objects.filter(city_id=city_id)
    }
    return response.matrix(overrides)


def response_for(unit: Unit, level: int) -> response.Response:
    return matrix_for(unit)[level]


# --- signals -------------------------------------------------------------------------------


def raise_signal(
    *,
    person: Person | None,
    unit: Unit,
    source: str,
    facts: dict[str, Any],
    obj: models.Model,
    actor: Any = None,
) -> RiskSignal:
    """Store a signal about ``obj`` (one per object) and act on it, in this transaction."""
    if source not in SignalSource.values:
        raise ValueError(f"unknown signal source {source!r}")
    facts = {**facts, "source": source}
    decision = rules.evaluate(facts)
    level = decision.level if decision else rules.GENERAL
    signal = RiskSignal.objects.create(
        person=person,
        unit=unit,
        source=source,
        level=level,
        rules=list(decision.rules) if decision else [],
        facts=facts,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
    )
    if SUBSCRIBERS:  # handed to them by a job (none is lost), after this commits
        enqueue("risk.dispatch_signal", {"signal": str(signal.pk)}, key=f"signal:{signal.pk}")
    if person is None:
        return signal  # anonymous: counted in its campaign, nobody to reach
    record_event(
        person=person,
        kind=EventKind.RISK_SIGNAL,
        actor=actor,
        obj=signal,
        summary=_("%(source)s: %(level)s")
        % {"source": SignalSource(source).label, "level": RiskLevel(level).label},
    )
    # One signal at a time per person: two at once (a result and a report) must join one
    # alert, not race to open two (the database allows one active alert per person).
    list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk", flat=True))
    matrix = matrix_for(person.unit)
    risk = _raise_level(person, level, signal=signal, matrix=matrix)
    if matrix[level].alert and person.status != FileStatus.ERASED:
        _open_or_join_alert(person, signal, actor, matrix=matrix, risk=risk)
    return signal


@handler("risk.dispatch_signal")
def _dispatch_job(payload: dict[str, Any]) -> None:
    dispatch(payload["signal"])


def dispatch(signal_id: Any) -> bool:
    """Hand one signal to every subscriber, once; False if it was handed over already."""
    signal = (
        RiskSignal.objects.select_for_update()
        .filter(pk=signal_id, dispatched_at__isnull=True)
        .first()
    )
    if signal is None:
        return False
    for subscriber in SUBSCRIBERS:
        subscriber(signal)
    signal.dispatched_at = timezone.now()
    signal.save(update_fields=["dispatched_at"])
    return True


# --- levels --------------------------------------------------------------------------------


def _raise_level(
    person: Person, level: int, *, signal: RiskSignal, matrix: dict[int, response.Response]
) -> PersonRisk:
    """A signal raises the level at once; a milder one never lowers it (issue #5 item 2)."""
    current = (
        PersonRisk.objects.select_for_update(of=("self",))
        .select_related("responsible")
        .filter(person=person)
        .first()
    )
    new_level = rules.merged_level(current.level if current else None, level)
    if current is not None and new_level == current.level:
        return current
    reason = _("Signal: %(source)s") % {"source": signal.get_source_display()}
    followup = matrix[new_level].followup_days
    return _set_level(
        person, current, new_level, reason=reason, signal=signal, actor=None, followup=followup
    )


def _set_level(
    person: Person,
    current: PersonRisk | None,
    level: int,
    *,
    reason: str,
    signal: RiskSignal | None,
    actor: Any,
    followup: int,
) -> PersonRisk:
    now = timezone.now()
    new = current is None
    if current is None:
        current = PersonRisk(person=person)
    old = current.level if current.pk and current.level else None
    current.level = level
    current.since = now
    current.reason = reason[:300]
    base = current.last_contact_at or now
    current.next_contact_due = (base + timedelta(days=followup)).date()
    current.save(force_insert=new)  # one INSERT, not an UPDATE tried first
    RiskLevelChange.objects.create(
        person=person,
        from_level=old,
        to_level=level,
        reason=reason[:300],
        signal=signal,
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    from xinqiao.followups.actions import reschedule

    reschedule(person=person, reason=reason, actor=actor)  # the plan follows the level
    return current


@transaction.atomic
def set_risk_level(*, acting_user: Any, person: Person, level: int, reason: str) -> PersonRisk:
    """A counsellor or psychiatrist sets the level, with the reason (the only way down)."""
    require(acting_user, Action.RISK_LEVEL_SET, person.unit)
    if level not in RiskLevel.values:
        raise ValidationError({"level": _("Choose a level from 1 to 4.")})
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": _("Say why the level changes.")})
    current = PersonRisk.objects.select_for_update().filter(person=person).first()
    if current is not None and current.level == level:
        raise ValidationError({"level": _("The person is at this level already.")})
    followup = response_for(person.unit, level).followup_days
    with acting(acting_user):
        risk = _set_level(
            person, current, level, reason=reason, signal=None, actor=acting_user, followup=followup
        )
    record_event(
        person=person,
        kind=EventKind.RISK_SIGNAL,
        actor=acting_user,
        obj=risk,
        summary=_("Risk level set to %(level)s") % {"level": RiskLevel(level).label},
    )
    return risk


# --- alerts --------------------------------------------------------------------------------


def _open_or_join_alert(
    person: Person,
    signal: RiskSignal,
    actor: Any,
    *,
    matrix: dict[int, response.Response],
    risk: PersonRisk,
) -> Alert:
    active = (
        Alert.objects.select_for_update()
        .filter(person=person, status__in=[s.value for s in _active()])
        .first()
    )
    now = timezone.now()
    policy = matrix[signal.level]
    if active is None:
        alert = Alert.objects.create(
            person=person,
            unit=person.unit,
            level=signal.level,
            signal=signal,
            ack_deadline=now + timedelta(minutes=policy.ack_minutes),
        )
        _event(alert, AlertEventKind.RAISED, actor=actor, note=",".join(signal.rules))
        _notify_raised(alert, policy, risk)
        _schedule_escalation(alert, new=True)
        return alert
    _event(active, AlertEventKind.SIGNAL, actor=actor, note=",".join(signal.rules))
    if signal.level < active.level:
        active.level = signal.level
        fields = ["level"]
        if active.status == AlertStatus.OPEN:
            active.ack_deadline = min(
                active.ack_deadline, now + timedelta(minutes=policy.ack_minutes)
            )
            fields.append("ack_deadline")
        active.save(update_fields=fields)
        _event(active, AlertEventKind.LEVEL_RAISED, actor=actor, note=str(signal.level))
        _notify_raised(active, policy, risk)
        if active.status == AlertStatus.OPEN:
            _schedule_escalation(active)
    return active


def _active() -> tuple[AlertStatus, ...]:
    return (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.IN_INTERVENTION)


def _event(
    alert: Alert, kind: str, *, actor: Any = None, unit: Unit | None = None, note: str = ""
) -> None:
    AlertEvent.objects.create(
        alert=alert,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        unit=unit,
        note=note[:300],
    )


def _schedule_escalation(alert: Alert, *, new: bool = False) -> None:
    """The escalation clock: a job at the acknowledgement deadline (one per alert and step;
    a ``new`` alert cannot have one yet, so it is added without looking)."""
    payload = {"alert": str(alert.pk), "step": alert.escalation_step}
    key = f"escalate:{alert.pk}:{alert.escalation_step}"
    if new:
        enqueue_many("risk.escalate", [(payload, key)], run_at=alert.ack_deadline)
    else:
        enqueue("risk.escalate", payload, run_at=alert.ack_deadline, key=key)


def community_of(unit: Unit) -> Unit:
    """The community (or school, hospital …) a unit belongs to: a grid's parent."""
    if unit.kind == UnitKind.GRID and unit.parent is not None:
        return unit.parent
    return unit


def _handling_memberships(person: Person, *, street_admins: bool = False) -> list[Membership]:
    """In one read: the active memberships with a handling role in the person's own unit and
    its community, and with ``street_admins`` those of the administrators of the person's
    street (报告街道)."""
    local = [person.unit_id, community_of(person.unit).pk]
    wanted = Q(unit_id__in=local, role__in=list(HANDLING_ROLES))
    if street_admins:
        above = [uuid.UUID(part) for part in person.unit.path.strip("/").split("/") if part]
        wanted |= Q(
            unit_id__in=above, unit__kind=UnitKind.STREET, role__in=[r.value for r in ADMIN_ROLES]
        )
    return list(
        Membership.objects.filter(wanted, user__is_active=True)
        .select_related("user", "unit")
        .order_by("user__username")
    )


def handlers_of(
    person: Person,
    risk: PersonRisk | None = None,
    *,
    memberships: list[Membership] | None = None,
) -> list[User]:
    """The responsible worker, or else the counsellors and others who handle alerts in the
    person's own unit and its community (R-CRISIS: 责任心理咨询师). ``memberships``: those
    read by ``_handling_memberships`` already, if the caller has them."""
    if risk is None:
        risk = PersonRisk.objects.filter(person=person).select_related("responsible").first()
    if risk is not None and risk.responsible is not None and risk.responsible.is_active:
        return [risk.responsible]
    if memberships is None:
        memberships = _handling_memberships(person)
    local = {person.unit_id, community_of(person.unit).pk}
    return _unique(m.user for m in memberships if m.role in HANDLING_ROLES and m.unit_id in local)


def _team_of(person: Person) -> list[User]:
    members = TeamMember.objects.filter(
        team__unit=community_of(person.unit),
        team__kind=TeamKind.COMMUNITY,
        team__is_active=True,
        user__is_active=True,
    ).select_related("user")
    return _unique(m.user for m in members)


def _admins_of(unit: Unit) -> list[User]:
    rows = Membership.objects.filter(
        unit=unit, role__in=[r.value for r in ADMIN_ROLES], user__is_active=True
    ).select_related("user")
    return _unique(m.user for m in rows)


def _unique(users: Iterable[User]) -> list[User]:
    return list({u.pk: u for u in users}.values())


def _ancestor(unit: Unit, kind: str) -> Unit | None:
    return unit.ancestors().filter(kind=kind).first()


def _notify_raised(alert: Alert, policy: response.Response, risk: PersonRisk | None) -> None:
    """R-CRISIS: the responsible counsellor; the community team; the street office at once
    (报告街道) when the level says so."""
    person = alert.person
    # When the street is told, one read serves both lists; otherwise handlers_of reads the
    # memberships only if nobody is responsible for the person.
    memberships = (
        _handling_memberships(person, street_admins=True) if policy.notify_street else None
    )
    recipients = handlers_of(person, risk, memberships=memberships)
    if policy.notify_team:
        recipients += _team_of(person)
    if memberships is not None:
        recipients += [
            m.user for m in memberships if m.role in ADMIN_ROLES and m.unit.kind == UnitKind.STREET
        ]
    _notify(alert, _unique(recipients), escalated_to=None)


def _notify(alert: Alert, recipients: Iterable[User], *, escalated_to: Unit | None) -> None:
    """Tell ``recipients`` of the alert, each in their language; never the person's name."""
    from xinqiao.notify.actions import notify

    by_language: dict[str, list[User]] = {}
    for user in recipients:
        by_language.setdefault(user.language or "zh-hans", []).append(user)
    url = reverse("risk:alert", kwargs={"alert_id": alert.pk})
    minutes = max(1, int((alert.ack_deadline - timezone.now()).total_seconds() // 60))
    for language, users in by_language.items():
        with translation.override(language):
            values = {
                "level": RiskLevel(alert.level).label,
                "unit": community_of(alert.unit).name,
                "minutes": minutes,
            }
            if escalated_to is None:
                subject = _("Crisis alert: %(level)s, %(unit)s") % values
                body = (
                    _(
                        "A crisis alert (%(level)s) has been raised in %(unit)s. Acknowledge it "
                        "within %(minutes)d minutes."
                    )
                    % values
                )
            else:
                subject = _("Escalated: crisis alert %(level)s, %(unit)s") % values
                body = (
                    _(
                        "Nobody has acknowledged a crisis alert (%(level)s) in %(unit)s in time. "
                        "Acknowledge it within %(minutes)d minutes, or it goes further up."
                    )
                    % values
                )
        notify(recipients=users, subject=str(subject), body=str(body), url=url, obj=alert)
    names = ", ".join(sorted(u.username for u in recipients))
    _event(alert, AlertEventKind.NOTIFIED, unit=escalated_to, note=names)


@handler("risk.escalate")
def _escalate_job(payload: dict[str, Any]) -> None:
    escalate(payload["alert"], step=int(payload["step"]))


def escalation_target(alert: Alert) -> Unit | None:
    """The unit the alert goes to next: the street, then the district, then the city (and the
    city again at every later deadline)."""
    current = alert.escalated_to or community_of(alert.unit)
    ladder = [UnitKind.STREET, UnitKind.DISTRICT, UnitKind.CITY]
    for kind in ladder:
        unit = _ancestor(alert.unit, kind)
        if unit is not None and len(unit.path) < len(current.path):
            return unit
    return _ancestor(alert.unit, UnitKind.CITY)


def escalate(alert_id: Any, *, step: int) -> Alert | None:
    """Run at an alert's deadline: if still unacknowledged, send it one level up with a new
    deadline. Deadlines are stored times, so a clock that jumped only delays or hastens this
    run, never its outcome: a run before the deadline schedules itself again."""
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None or alert.status != AlertStatus.OPEN or alert.escalation_step != step:
        return alert  # acknowledged meanwhile, or a later escalation took over
    now = timezone.now()
    if now < alert.ack_deadline:
        enqueue("risk.escalate", {"alert": str(alert.pk), "step": step}, run_at=alert.ack_deadline)
        return alert
    target = escalation_target(alert)
    policy = response_for(alert.unit, alert.level)
    alert.escalation_step = step + 1
    alert.escalated_to = target
    alert.ack_deadline = now + timedelta(minutes=policy.ack_minutes)
    alert.save(update_fields=["escalation_step", "escalated_to", "ack_deadline"])
    _event(alert, AlertEventKind.ESCALATED, unit=target, note=str(alert.escalation_step))
    recipients = set(handlers_of(alert.person)) | set(_admins_of(target) if target else [])
    _notify(alert, recipients, escalated_to=target)
    _schedule_escalation(alert)
    return alert


def _lock(alert: Alert) -> Alert:
    return (
        Alert.objects.select_for_update(of=("self",))
        .select_related("person__unit")
        .get(pk=alert.pk)
    )


def _require_handler(user: Any, alert: Alert) -> None:
    """Those who handle alerts in the person's unit, and the administrators it went up to."""
    if can(user, Action.ALERT_HANDLE, alert.person.unit):
        return
    require(user, Action.ALERT_HANDLE, alert.escalated_to)


def _move(alert: Alert, status: str) -> None:
    if status not in Alert.TRANSITIONS[alert.status]:
        raise ValidationError(
            {
                "status": _("This alert is %(status)s: it cannot be changed that way.")
                % {"status": alert.get_status_display()}
            }
        )
    alert.status = status


@transaction.atomic
def acknowledge_alert(*, acting_user: Any, alert: Alert) -> Alert:
    """Take the alert on. Exactly one of two people acknowledging at once wins; the other is
    told who did (the row is locked)."""
    alert = _lock(alert)
    _require_handler(acting_user, alert)
    if alert.status != AlertStatus.OPEN:
        raise AlreadyAcknowledged(alert)
    _move(alert, AlertStatus.ACKNOWLEDGED)
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = acting_user
    with acting(acting_user):
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        PersonRisk.objects.filter(person=alert.person).update(responsible=acting_user)
    _event(alert, AlertEventKind.ACKNOWLEDGED, actor=acting_user)
    record_event(
        person=alert.person,
        kind=EventKind.ALERT,
        actor=acting_user,
        obj=alert,
        summary=_("Alert acknowledged"),
    )
    return alert


class AlreadyAcknowledged(ValidationError):
    def __init__(self, alert: Alert) -> None:
        who = alert.acknowledged_by.name if alert.acknowledged_by else "—"
        when = timezone.localtime(alert.acknowledged_at) if alert.acknowledged_at else None
        super().__init__(
            {
                "status": _("Already acknowledged by %(who)s at %(when)s.")
                % {"who": who, "when": f"{when:%H:%M:%S}" if when else "—"}
            }
        )
        self.alert = alert


class ContactMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    HOME_VISIT = "home_visit", _("Home visit")
    PHONE = "phone", pgettext_lazy("contact mode", "Phone")
    VIDEO = "video", _("Video")


@transaction.atomic
def record_contact(*, acting_user: Any, alert: Alert, mode: str, note: str = "") -> Alert:
    """The first (or a further) contact with the person: one-to-one intervention begins."""
    alert = _lock(alert)
    _require_handler(acting_user, alert)
    if mode not in ContactMode.values:
        raise ValidationError({"mode": _("Choose how you reached the person.")})
    now = timezone.now()
    if alert.status == AlertStatus.OPEN:
        raise ValidationError({"status": _("Acknowledge the alert first.")})
    if alert.status != AlertStatus.IN_INTERVENTION:
        _move(alert, AlertStatus.IN_INTERVENTION)
    if alert.first_contact_at is None:
        alert.first_contact_at = now
    with acting(acting_user):
        alert.save(update_fields=["status", "first_contact_at"])
        risk = PersonRisk.objects.select_for_update().filter(person=alert.person).first()
        if risk is not None:
            followup = response_for(alert.person.unit, risk.level).followup_days
            risk.last_contact_at = now
            risk.next_contact_due = (now + timedelta(days=followup)).date()
            risk.save(update_fields=["last_contact_at", "next_contact_due"])
        from xinqiao.followups.actions import contact_made

        contact_made(person=alert.person, on=timezone.localdate(), actor=acting_user)
    _event(alert, AlertEventKind.CONTACT, actor=acting_user, note=str(ContactMode(mode).label))
    return alert


@transaction.atomic
def mark_referred(*, acting_user: Any, alert: Alert, note: str = "") -> Alert:
    """The person was referred (``xinqiao.referrals``); an open alert counts as acknowledged."""
    alert = _lock(alert)
    _require_handler(acting_user, alert)
    if alert.status == AlertStatus.OPEN:
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = acting_user
        _event(alert, AlertEventKind.ACKNOWLEDGED, actor=acting_user)
    _move(alert, AlertStatus.REFERRED)
    with acting(acting_user):
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    _event(alert, AlertEventKind.REFERRED, actor=acting_user, note=note)
    return alert


@transaction.atomic
def resolve_alert(*, acting_user: Any, alert: Alert, outcome: str) -> Alert:
    alert = _lock(alert)
    _require_handler(acting_user, alert)
    outcome = (outcome or "").strip()
    if len(outcome) < 4:
        raise ValidationError({"outcome": _("Describe the outcome.")})
    _move(alert, AlertStatus.RESOLVED)
    alert.closed_at = timezone.now()
    alert.outcome = outcome
    with acting(acting_user):
        alert.save(update_fields=["status", "closed_at", "outcome"])
    _event(alert, AlertEventKind.RESOLVED, actor=acting_user)
    record_event(
        person=alert.person,
        kind=EventKind.ALERT,
        actor=acting_user,
        obj=alert,
        summary=_("Alert resolved"),
    )
    return alert


# --- reports of a concern ------------------------------------------------------------------


@transaction.atomic
def report_concern(
    *, acting_user: Any, person: Person, behaviours: list[str], note: str = ""
) -> ConcernReport:
    """A worker's report of what they saw (seed 000 二(六)): stored, and a signal at once."""
    require(acting_user, Action.CONCERN_REPORT, person.unit)
    chosen = sorted(set(behaviours))
    if not chosen:
        raise ValidationError({"behaviours": _("Tick what you saw.")})
    if not set(chosen) <= set(ConcernBehaviour.values):
        raise ValidationError({"behaviours": _("Choose from the list.")})
    if person.status != FileStatus.ACTIVE:
        raise ValidationError({"person": _("This file is not active.")})
    with acting(acting_user):
        report = ConcernReport.objects.create(
            person=person, behaviours=chosen, note=(note or "").strip(), reported_by=acting_user
        )
    record_event(
        person=person,
        kind=EventKind.RISK_SIGNAL,
        actor=acting_user,
        obj=report,
        summary=_("Concern reported"),
    )
    raise_signal(
        person=person,
        unit=person.unit,
        source=SignalSource.CONCERN_REPORT,
        facts={"behaviours": chosen, "note_risk": _note_risk(report.note)},
        obj=report,
        actor=acting_user,
    )
    return report


def _note_risk(note: str) -> str:
    """The triage level of a report's free text (no text is kept in the facts)."""
    if not note:
        return "none"
    from xinqiao.hotline.text import triage_text

    return triage_text(note).risk


# --- the response matrix -------------------------------------------------------------------


@transaction.atomic
def set_response(*, acting_user: Any, city: Unit, level: int, **values: Any) -> ResponsePolicy:
    """A city's change to one level of the response matrix."""
    require(acting_user, Action.RESPONSE_CONFIGURE, city)
    if city.kind != UnitKind.CITY:
        raise ValidationError({"city": _("The response is set for a whole city.")})
    row = response.Response(level=level, **values)
    problems = response.check(row)
    messages = {
        "ack_minutes": _("Between 1 minute and 7 days."),
        "followup_days": _("Between 1 and 180 days (at least every six months)."),
        "action": _("Choose an action."),
    }
    if problems:
        raise ValidationError({field: messages[field] for field in problems})
    with acting(acting_user):
        policy, _created = ResponsePolicy.objects.update_or_create(
            city=city, level=level, defaults={**values, "updated_by": acting_user}
        )
    return policy
