"""Writes of referrals (R-REFER, R-CONSENT). Keyword-only, one transaction each, validation
before any write; the status moves only through ``Referral.TRANSITIONS`` (``_move``), and every
move appends a timeline event on the person's file in the same transaction (feedback to the
person's community, seed 000 二(六) "将信息反馈给患者所在社区(村)")."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.accounts.models import User
from xinqiao.audit.log import acting, log_access
from xinqiao.audit.models import AccessKind, AccessLog
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, require
from xinqiao.people.actions import clean_phone
from xinqiao.people.events import record_event
from xinqiao.people.models import Consent, ConsentPurpose, EventKind, FileStatus, Person
from xinqiao.referrals.access import home_unit
from xinqiao.referrals.models import (
    HOSPITAL_KINDS,
    MEDICAL_KINDS,
    OPEN_STATUSES,
    RECEIVING_UNIT_KINDS,
    SENDABLE_KINDS,
    Referral,
    ReferralKind,
    ReferralStatus,
    Urgency,
)
from xinqiao.risk import actions as risk_actions
from xinqiao.risk.models import Alert, AlertStatus

MAX_TEXT = 4000


def _text(value: str, field: str, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: missing})
    if len(value) > MAX_TEXT:
        raise ValidationError({field: _("At most %(n)d characters, please.") % {"n": MAX_TEXT}})
    return value


def _contact(value: str) -> str:
    if not (value or "").strip():
        raise ValidationError(
            {"contact_phone": _("Give a phone number the other unit can call about this.")}
        )
    return clean_phone(value, "contact_phone")


def _same_city(a: Unit, b: Unit) -> bool:
    return a.path.split("/")[1] == b.path.split("/")[1]


def _check_receiver(*, kind: str, to_unit: Unit, from_unit: Unit) -> None:
    """The kind must fit the receiving unit, which must be active, elsewhere, in the city."""
    if not to_unit.is_active:
        raise ValidationError(
            {
                "to_unit": _("%(unit)s is deactivated and receives no referrals.")
                % {"unit": to_unit.name}
            }
        )
    if to_unit.pk == from_unit.pk:
        raise ValidationError({"to_unit": _("A unit cannot refer a person to itself.")})
    if not _same_city(to_unit, from_unit):
        raise ValidationError({"to_unit": _("Choose a unit of this city.")})
    if to_unit.kind not in RECEIVING_UNIT_KINDS[kind]:
        kinds = ", ".join(str(k.label) for k in UnitKind if k in RECEIVING_UNIT_KINDS[kind])
        raise ValidationError(
            {
                "to_unit": _(
                    "%(unit)s is a unit of kind “%(unit_kind)s”; a referral for “%(kind)s” "
                    "goes to: %(kinds)s."
                )
                % {
                    "unit": to_unit.name,
                    "unit_kind": to_unit.kind_label,
                    "kind": ReferralKind(kind).label,
                    "kinds": kinds,
                }
            }
        )


def _summary(referral: Referral) -> str:
    """Timeline text: units, kind and status only — nothing the file does not show."""
    return _("%(from)s → %(to)s · %(kind)s · %(status)s") % {
        "from": referral.from_unit.name,
        "to": referral.to_unit.name,
        "kind": referral.get_kind_display(),
        "status": referral.get_status_display(),
    }


def _record(referral: Referral, actor: Any) -> None:
    record_event(
        person=referral.person,
        kind=EventKind.REFERRAL,
        actor=actor,
        obj=referral,
        summary=_summary(referral),
    )
    _tell(referral, actor)


def _tell(referral: Referral, actor: Any) -> None:
    """The other side hears of it (R-REFER: the result is fed back): a new or cancelled
    referral goes to the receiving unit's staff, an answer or an outcome to the sender. The
    message names the units and the kind, never the person."""
    from xinqiao.notify.actions import notify
    from xinqiao.orgs.models import Membership
    from xinqiao.orgs.permissions import roles_with

    if referral.status in (ReferralStatus.SENT, ReferralStatus.CANCELLED):
        ids = Membership.objects.filter(
            unit=referral.to_unit, role__in=[r.value for r in roles_with(Action.REFERRAL_RECEIVE)]
        ).values_list("user_id", flat=True)
        recipients = list(User.objects.filter(pk__in=set(ids), is_active=True))
    else:
        recipients = [referral.sent_by]
    recipients = [u for u in recipients if u.pk != getattr(actor, "pk", None)]
    if not recipients:
        return
    notify(
        recipients=recipients,
        subject=_("Referral %(status)s: %(kind)s, %(from)s → %(to)s")
        % {
            "status": referral.get_status_display(),
            "kind": referral.get_kind_display(),
            "from": referral.from_unit.name,
            "to": referral.to_unit.name,
        },
        body="",
        url=reverse("referrals:detail", kwargs={"referral_id": referral.pk}),
        obj=referral,
    )


def _move(referral: Referral, status: str) -> None:
    """The one place a referral's status changes: only along ``Referral.TRANSITIONS``."""
    if not referral.can_become(status):
        raise ValidationError(
            {
                "status": _("This referral is “%(current)s”: it cannot become “%(new)s”.")
                % {
                    "current": referral.get_status_display(),
                    "new": ReferralStatus(status).label,
                }
            }
        )
    referral.status = status


def _lock(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("person__unit", "from_unit", "to_unit")
        .get(pk=referral.pk)
    )


def _lock_person(person_id: Any) -> Person:
    return (
        Person.objects.select_for_update(of=("self",))
        .select_related("unit__parent")
        .get(pk=person_id)
    )


def _data_sharing_consent(person: Person) -> Consent | None:
    if person.status == FileStatus.ERASED:
        return None
    return Consent.objects.filter(
        person=person, purpose=ConsentPurpose.DATA_SHARING_HOSPITAL, withdrawn_at__isnull=True
    ).first()


def _log_break_glass(*, request: HttpRequest | None, acting_user: Any, referral: Referral) -> None:
    """Emergency sharing of a file's data without consent: an access-log entry on the file,
    of kind break-glass, pointing at its reason (DESIGN.md "break-glass access requires a
    reason"). The reason itself is health information: it stays encrypted on the referral
    (and is erased with the file), never in clear in the append-only log."""
    person = referral.person
    text = _(
        "Referral %(id)s to %(unit)s without consent to share data; the emergency reason is "
        "on the referral."
    ) % {"id": referral.pk, "unit": referral.to_unit.name}
    if request is not None:
        log_access(
            request,
            person,
            kind=AccessKind.BREAK_GLASS,
            reason=text,
            unit_path=person.unit.path,
        )
    else:
        AccessLog.objects.create(
            user=acting_user,
            kind=AccessKind.BREAK_GLASS,
            object_type=person._meta.label_lower,
            object_id=str(person.pk),
            unit_path=person.unit.path,
            reason=text,
        )


def _check_alert(alert: Alert, person: Person) -> None:
    if alert.person_id != person.pk:
        raise ValidationError({"alert": _("This alert is about someone else.")})
    if alert.status == AlertStatus.RESOLVED:
        raise ValidationError({"alert": _("This alert is closed.")})


def _create(**fields: Any) -> Referral:
    try:
        with transaction.atomic():
            return Referral.objects.create(**fields)
    except IntegrityError as exc:  # another worker sent the same referral a moment ago
        raise ValidationError(
            {"kind": _("An open referral of this kind exists for this person already.")}
        ) from exc


def _check_open(person: Person, kind: str) -> None:
    if Referral.objects.filter(person=person, kind=kind, status__in=OPEN_STATUSES).exists():
        raise ValidationError(
            {
                "kind": _(
                    "This person already has an open referral of this kind: wait for its "
                    "answer, or cancel it first."
                )
            }
        )


@transaction.atomic
def refer_person(
    *,
    acting_user: Any,
    person: Person,
    to_unit: Unit,
    kind: str,
    reason: str,
    contact_phone: str,
    urgency: str = Urgency.ROUTINE,
    emergency_reason: str = "",
    alert: Alert | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Refer ``person`` from the unit that looks after them to ``to_unit``.

    A medical referral shares the file's data with the hospital: it needs the person's
    data_sharing_hospital consent, or — in an emergency only — an emergency reason, which is
    stored and written to the access log as break-glass (R-CONSENT). ``alert``, if given, is
    the crisis alert the referral answers; it is marked referred in this transaction. With
    consent on file an emergency reason is not needed, and not kept.
    ``request`` gives the access-log entry its address and page."""
    person = _lock_person(person.pk)
    from_unit = home_unit(person)
    require(acting_user, Action.REFERRAL_SEND, from_unit)
    if person.status != FileStatus.ACTIVE:
        raise ValidationError({"person": _("This file is not active: reactivate it first.")})
    if kind not in SENDABLE_KINDS:
        raise ValidationError({"kind": _("Choose the kind of referral.")})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": _("Choose how urgent the referral is.")})
    if kind == ReferralKind.GREEN_CHANNEL and urgency == Urgency.ROUTINE:
        # Seed 002 篇1 (九): the green channel is the fast track ("快速转介") for a relapse.
        raise ValidationError(
            {"urgency": _("The green channel is a fast track: choose urgent or emergency.")}
        )
    _check_receiver(kind=kind, to_unit=to_unit, from_unit=from_unit)
    reason = _text(reason, "reason", _("Say why the person is referred."))
    phone = _contact(contact_phone)
    consent = None
    emergency = ""
    if kind in MEDICAL_KINDS:
        consent = _data_sharing_consent(person)
        if consent is None:
            emergency = (emergency_reason or "").strip()
            if not emergency:
                raise ValidationError(
                    {
                        "emergency_reason": _(
                            "This person has not consented to their data being shared with a "
                            "hospital. Record their consent on the file first, or — only in a "
                            "crisis — mark the referral as an emergency and give the reason "
                            "it cannot wait."
                        )
                    }
                )
            if urgency != Urgency.EMERGENCY:
                raise ValidationError(
                    {
                        "urgency": _(
                            "A referral without consent is for emergencies only: mark it as "
                            "an emergency."
                        )
                    }
                )
            emergency = _text(emergency, "emergency_reason", "")
    if alert is not None:
        _check_alert(alert, person)
    _check_open(person, kind)
    with acting(acting_user):
        referral = _create(
            person=person,
            from_unit=from_unit,
            to_unit=to_unit,
            kind=kind,
            urgency=urgency,
            reason=reason,
            contact_phone=phone,
            consent=consent,
            emergency_reason=emergency,
            alert=alert,
            sent_by=acting_user,
        )
    _record(referral, acting_user)
    if emergency:
        _log_break_glass(request=request, acting_user=acting_user, referral=referral)
    if alert is not None and alert.status != AlertStatus.REFERRED:
        # The alert's handling moves on (R-CRISIS); the note carries no personal data.
        risk_actions.mark_referred(
            acting_user=acting_user,
            alert=alert,
            note=_("Referred to %(unit)s: %(kind)s")
            % {"unit": to_unit.name, "kind": referral.get_kind_display()},
        )
    return referral


def _require_receiver(acting_user: Any, referral: Referral) -> None:
    require(acting_user, Action.REFERRAL_RECEIVE, referral.to_unit)


@transaction.atomic
def accept_referral(*, acting_user: Any, referral: Referral) -> Referral:
    """The receiving unit takes the person on (e.g. admits them)."""
    referral = _lock(referral)
    _require_receiver(acting_user, referral)
    _move(referral, ReferralStatus.ACCEPTED)
    referral.decided_by = acting_user
    referral.decided_at = timezone.now()
    with acting(acting_user):
        referral.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    _record(referral, acting_user)
    return referral


@transaction.atomic
def decline_referral(*, acting_user: Any, referral: Referral, reason: str) -> Referral:
    """The receiving unit cannot take the person on, and says why (the sender reads it)."""
    referral = _lock(referral)
    _require_receiver(acting_user, referral)
    reason = _text(reason, "decline_reason", _("Say why the referral is declined."))
    _move(referral, ReferralStatus.DECLINED)
    referral.decided_by = acting_user
    referral.decided_at = timezone.now()
    referral.decline_reason = reason
    with acting(acting_user):
        referral.save(
            update_fields=["status", "decided_by", "decided_at", "decline_reason", "updated_at"]
        )
    _record(referral, acting_user)
    return referral


def _check_day(day: date | None, field: str, *, not_before: date) -> date:
    if day is None:
        raise ValidationError({field: _("Enter the date.")})
    if day > timezone.localdate():
        raise ValidationError({field: _("The date is in the future.")})
    if day < not_before:
        raise ValidationError(
            {
                field: _("The date is before the referral was sent (%(day)s).")
                % {"day": f"{not_before:%Y-%m-%d}"}
            }
        )
    return day


def _sent_on(referral: Referral) -> date:
    return timezone.localdate(referral.sent_at)


@transaction.atomic
def complete_referral(
    *, acting_user: Any, referral: Referral, outcome: str, outcome_on: date | None
) -> Referral:
    """The outcome, fed back to the sending unit and the person's file (seed 000 二(六))."""
    referral = _lock(referral)
    _require_receiver(acting_user, referral)
    outcome = _text(outcome, "outcome", _("Describe the outcome for the sending unit."))
    outcome_on = _check_day(outcome_on, "outcome_on", not_before=_sent_on(referral))
    _move(referral, ReferralStatus.DONE)
    _complete(referral, acting_user, outcome=outcome, outcome_on=outcome_on)
    _record(referral, acting_user)
    return referral


def _complete(referral: Referral, acting_user: Any, *, outcome: str, outcome_on: date) -> None:
    referral.completed_by = acting_user
    referral.completed_at = timezone.now()
    referral.outcome = outcome
    referral.outcome_on = outcome_on
    with acting(acting_user):
        referral.save(
            update_fields=[
                "status",
                "completed_by",
                "completed_at",
                "outcome",
                "outcome_on",
                "updated_at",
            ]
        )


@transaction.atomic
def cancel_referral(*, acting_user: Any, referral: Referral) -> Referral:
    """The sending unit withdraws a referral not yet answered."""
    referral = _lock(referral)
    if not can(acting_user, Action.REFERRAL_SEND, referral.from_unit):
        raise PermissionDenied(_("Only the referring unit can cancel a referral."))
    _move(referral, ReferralStatus.CANCELLED)
    referral.decided_by = acting_user
    referral.decided_at = timezone.now()
    with acting(acting_user):
        referral.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    _record(referral, acting_user)
    return referral


def discharge_target(person: Person) -> Unit:
    """Where a discharge goes: the unit that looks after the person (their community)."""
    return home_unit(person)


@transaction.atomic
def record_discharge(
    *,
    acting_user: Any,
    referral: Referral,
    discharged_on: date | None,
    follow_up_plan: str,
    contact_phone: str,
    urgency: str = Urgency.ROUTINE,
) -> Referral:
    """A hospital discharges a person it received: a referral of kind "discharge back" from
    the hospital to the person's community, with the follow-up plan (seed 002 篇1 (九)
    "患者出院时进行出院康复评估 … 由医院转介到相应的社区康复机构"; seed 000 二(六)
    "同时将信息反馈给患者所在社区(村),纳入重点人群实施网格化服务管理"). The referral that
    brought the person in, if still accepted, is done with the discharge as its outcome; and
    the discharge raises a risk signal for the community (R-RISK)."""
    referral = _lock(referral)
    hospital = referral.to_unit
    _require_receiver(acting_user, referral)
    require(acting_user, Action.REFERRAL_SEND, hospital)
    if hospital.kind not in HOSPITAL_KINDS:
        raise ValidationError({"referral": _("Only a hospital records a discharge.")})
    if referral.status not in (ReferralStatus.ACCEPTED, ReferralStatus.DONE):
        raise ValidationError(
            {"referral": _("Accept the referral first: a discharge is for a person received.")}
        )
    person = _lock_person(referral.person_id)
    if person.status != FileStatus.ACTIVE:
        raise ValidationError({"referral": _("This person's file is no longer active.")})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": _("Choose how urgent the follow-up is.")})
    discharged_on = _check_day(discharged_on, "discharged_on", not_before=_sent_on(referral))
    plan = _text(follow_up_plan, "follow_up_plan", _("Write the follow-up plan for the community."))
    phone = _contact(contact_phone)
    community = discharge_target(person)
    try:
        _check_receiver(kind=ReferralKind.DISCHARGE, to_unit=community, from_unit=hospital)
    except ValidationError as exc:
        raise ValidationError(
            {
                "referral": _(
                    "The person's file is held by %(unit)s, which cannot receive a discharge: "
                    "%(problem)s"
                )
                % {"unit": community.name, "problem": " ".join(exc.messages)}
            }
        ) from exc
    _check_open(person, ReferralKind.DISCHARGE)
    if referral.status == ReferralStatus.ACCEPTED:
        _move(referral, ReferralStatus.DONE)
        _complete(
            referral,
            acting_user,
            outcome=_("Discharged on %(day)s; follow-up plan sent to %(unit)s.")
            % {"day": f"{discharged_on:%Y-%m-%d}", "unit": community.name},
            outcome_on=discharged_on,
        )
        _record(referral, acting_user)
    with acting(acting_user):
        discharge = _create(
            person=person,
            from_unit=hospital,
            to_unit=community,
            kind=ReferralKind.DISCHARGE,
            urgency=urgency,
            reason=plan,
            contact_phone=phone,
            previous=referral,
            discharged_on=discharged_on,
            sent_by=acting_user,
        )
    _record(discharge, acting_user)
    risk_actions.raise_signal(
        person=person,
        unit=person.unit,
        source="hospital_discharge",
        facts={"source": "hospital_discharge"},
        obj=discharge,
        actor=acting_user,
    )
    return discharge


def erase_referral_texts(person: Person) -> None:
    """Erasure of a file (PIPL Art. 47): the free texts of its referrals go — reason (or
    follow-up plan), outcome, emergency reason, reason for declining; who, when, where and the
    statuses stay for statistics. A placeholder keeps the record's rules true (a declined
    referral had a reason, a break-glass one an emergency)."""
    erased = _("(erased)")
    for referral in Referral.objects.filter(person=person):
        referral.reason = erased
        for field in ("outcome", "emergency_reason", "decline_reason"):
            if getattr(referral, field):
                setattr(referral, field, erased)
        referral.save(
            update_fields=["reason", "outcome", "emergency_reason", "decline_reason", "updated_at"]
        )
