"""Writes of the hotline's roster and call log (R-HOTLINE). Keyword-only, one transaction each,
audited through ``acting``. Bad input raises ``ValidationError`` naming the field; an object
outside the acting user's scope raises ``Http404``; a user who may not act gets
``PermissionDenied`` with a clear message.

Roster: seats of a centre, shifts (one operator on one seat; never two shifts at once on a seat
or for an operator; only operators holding a role in the centre and trained in epidemic
psychological assistance, seed 002 篇6 三(五)2 在上岗之前, 应接受新冠肺炎疫情应对心理援助培训),
trainings.

Calls: ``log_call`` stores the call, its problems, its risk (``callrisk``: never below the
suicide-risk answers) and the triage of its notes; a call at risk raises its signal through
``crisis.raise_contact_signal`` in the same transaction (a high one is a crisis alert); a call
linked to a person file is a timeline event and counts as a contact for follow-up.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.accounts.models import User
from xinqiao.audit.log import acting
from xinqiao.hotline import callrisk, categories, crisis
from xinqiao.hotline.models import (
    AgeBand,
    Call,
    CallerType,
    CallProblem,
    CallReferral,
    HotlineTraining,
    Intervention,
    Seat,
    Shift,
    TextRisk,
)
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, scoped
from xinqiao.people.events import record_event
from xinqiao.people.models import EventKind, FileStatus, Person, Sex, TargetGroup
from xinqiao.risk.models import SignalSource

MAX_SHIFT = timedelta(hours=24)
# A call's start may be typed in by hand: not more than a day back, not in the future.
MAX_CALL_AGE = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=2)


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _require(user: Any, action: Action, unit: Unit) -> None:
    if not can(user, action, unit):
        raise PermissionDenied(_("You do not have permission to do this."))


# --- roster --------------------------------------------------------------------------------


def centres_for(user: Any, action: Action) -> list[Unit]:
    """Active hotline centres where ``user`` may do ``action``."""
    return list(
        scoped(Unit.objects.filter(kind=UnitKind.HOTLINE_CENTRE, is_active=True), user, action)
        .select_related("parent")
        .order_by("path")
    )


def holds_role_in(user: Any, centre: Unit) -> bool:
    return Membership.objects.filter(
        user=user, unit__path__startswith=centre.path, unit__is_active=True
    ).exists()


def valid_training(operator: Any, centre: Unit, on: date) -> HotlineTraining | None:
    """The operator's training at ``centre`` valid on ``on`` (completed by then, not expired)."""
    return (
        HotlineTraining.objects.filter(operator=operator, centre=centre, completed_on__lte=on)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
        .order_by("-completed_on")
        .first()
    )


def add_seat(*, acting_user: Any, centre: Unit, name: str) -> Seat:
    _require(acting_user, Action.HOTLINE_ROSTER, centre)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the seat a name.")})
    if len(name) > 40:
        raise ValidationError({"name": _("Keep the name to 40 characters.")})
    if centre.kind != UnitKind.HOTLINE_CENTRE:
        raise ValidationError({"centre": _("Seats belong to a hotline centre.")})
    with transaction.atomic(), acting(acting_user):
        if Seat.objects.filter(centre=centre, name=name).exists():
            raise ValidationError({"name": _("This centre already has a seat of that name.")})
        return Seat.objects.create(centre=centre, name=name)


def set_seat_active(*, acting_user: Any, seat: Seat, active: bool) -> Seat:
    _require(acting_user, Action.HOTLINE_ROSTER, seat.centre)
    with transaction.atomic(), acting(acting_user):
        seat = Seat.objects.select_for_update().get(pk=seat.pk)
        seat.is_active = active
        seat.save(update_fields=["is_active"])
        return seat


def record_training(
    *,
    acting_user: Any,
    centre: Unit,
    operator: Any,
    course: str,
    completed_on: date | None,
    valid_until: date | None = None,
) -> HotlineTraining:
    _require(acting_user, Action.HOTLINE_ROSTER, centre)
    course = (course or "").strip()
    errors: dict[str, str] = {}
    if operator is None or not holds_role_in(operator, centre):
        errors["operator"] = _("Choose someone who holds a role in this centre.")
    if not course:
        errors["course"] = _("Name the course.")
    elif len(course) > 200:
        errors["course"] = _("Keep the course name to 200 characters.")
    if completed_on is None:
        errors["completed_on"] = _("Enter the date the course was completed.")
    elif completed_on > timezone.localdate():
        errors["completed_on"] = _("The completion date cannot be in the future.")
    if completed_on and valid_until and valid_until < completed_on:
        errors["valid_until"] = _("The training cannot expire before it was completed.")
    if errors or completed_on is None:
        raise ValidationError(errors)
    with transaction.atomic(), acting(acting_user):
        return HotlineTraining.objects.create(
            operator=operator,
            centre=centre,
            course=course,
            completed_on=completed_on,
            valid_until=valid_until,
            recorded_by=acting_user,
        )


def add_shift(
    *,
    acting_user: Any,
    seat: Seat,
    operator: Any,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> Shift:
    """One operator on one seat. Refused: an inactive seat, an operator who holds no role in
    the centre or has no valid training for the whole shift, a shift overlapping another on
    the same seat or another of the same operator (checked under a lock on the seat and the
    operator)."""
    centre = seat.centre
    _require(acting_user, Action.HOTLINE_ROSTER, centre)
    errors: dict[str, str] = {}
    if starts_at is None:
        errors["starts_at"] = _("Enter when the shift starts.")
    if ends_at is None:
        errors["ends_at"] = _("Enter when the shift ends.")
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors["ends_at"] = _("The shift must end after it starts.")
        elif ends_at - starts_at > MAX_SHIFT:
            errors["ends_at"] = _("A shift lasts at most 24 hours.")
    if operator is None or not holds_role_in(operator, centre):
        errors["operator"] = _("Choose someone who holds a role in this centre.")
    elif starts_at and ends_at:
        zone = tz()
        first, last = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
        training = valid_training(operator, centre, first)
        if training is None or (training.valid_until and training.valid_until < last):
            errors["operator"] = _(
                "%(name)s has no valid training in epidemic psychological assistance for this "
                "date; record the training first."
            ) % {"name": operator.name or operator.username}
    if errors or starts_at is None or ends_at is None:
        raise ValidationError(errors)
    with transaction.atomic(), acting(acting_user):
        seat = Seat.objects.select_for_update().get(pk=seat.pk)
        User.objects.select_for_update().filter(pk=operator.pk).first()
        if not seat.is_active:
            raise ValidationError({"seat": _("This seat is deactivated.")})
        overlapping = Shift.objects.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
        if overlapping.filter(seat=seat).exists():
            raise ValidationError(
                {"starts_at": _("Another shift on this seat overlaps these times.")}
            )
        if overlapping.filter(operator=operator).exists():
            raise ValidationError(
                {"operator": _("This operator is already on another shift at these times.")}
            )
        return Shift.objects.create(
            seat=seat,
            operator=operator,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=acting_user,
        )


def remove_shift(*, acting_user: Any, shift: Shift) -> None:
    _require(acting_user, Action.HOTLINE_ROSTER, shift.seat.centre)
    with transaction.atomic(), acting(acting_user):
        Shift.objects.filter(pk=shift.pk).delete()


def current_shift(operator: Any, centre: Unit, at: datetime) -> Shift | None:
    return (
        Shift.objects.filter(
            operator=operator, seat__centre=centre, starts_at__lte=at, ends_at__gt=at
        )
        .select_related("seat")
        .first()
    )


# --- calls ---------------------------------------------------------------------------------


@dataclass
class CallInput:
    """The call form's values, already parsed (``forms.CallForm``); checked again here."""

    caller_type: str
    started_at: datetime
    ended_at: datetime | None = None
    caller_sex: str = Sex.UNKNOWN
    age_band: str = AgeBand.UNKNOWN
    caller_group: str = ""
    area: Unit | None = None
    problems: list[str] = field(default_factory=list)
    answers: callrisk.RiskAnswers = field(default_factory=callrisk.RiskAnswers)
    chosen_risk: str = TextRisk.NONE
    interventions: list[str] = field(default_factory=list)
    referral: str = CallReferral.NONE
    callback_at: datetime | None = None
    callback_phone: str = ""
    notes: str = ""
    person: Person | None = None


def new_reference() -> str:
    """ "H" and 7 characters of base32 from the system's random source (35 bits)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        ref = "H" + "".join(secrets.choice(alphabet) for _n in range(7))
        if not Call.objects.filter(reference=ref).exists():
            return ref


def text_risk_of(notes: str) -> str:
    """The triage level of the notes (``xinqiao.hotline.triage``)."""
    if not notes.strip():
        return TextRisk.NONE
    from xinqiao.hotline.text import triage_text

    level = str(triage_text(notes).risk)
    return level if level in TextRisk.values else TextRisk.NONE


def may_log_at(user: Any, centre: Unit, on: date) -> bool:
    return (
        can(user, Action.HOTLINE_CALL_LOG, centre) and valid_training(user, centre, on) is not None
    )


def refusal(user: Any, centre: Unit | None, on: date) -> str:
    """Why ``user`` may not log calls at ``centre`` ("" if they may)."""
    if centre is None or not can(user, Action.HOTLINE_CALL_LOG, centre):
        return _("Only hotline operators and counsellors of a hotline centre log calls.")
    if valid_training(user, centre, on) is None:
        return _(
            "You have no valid training in epidemic psychological assistance on record at this "
            "centre. Calls are taken only after that training (seed 002, part 6, III(5)2); ask "
            "the centre to record yours."
        )
    return ""


def _check_call(acting_user: Any, centre: Unit, data: CallInput, now: datetime) -> None:
    errors: dict[str, str] = {}
    if data.caller_type not in CallerType.values:
        errors["caller_type"] = _("Choose who is calling.")
    if data.caller_sex not in Sex.values:
        errors["caller_sex"] = _("Choose the caller's sex, or unknown.")
    if data.age_band not in AgeBand.values:
        errors["age_band"] = _("Choose an age band, or unknown.")
    if data.caller_group and data.caller_group not in TargetGroup.values:
        errors["caller_group"] = _("Choose a group from the list.")
    if data.area is not None and (data.area.kind != UnitKind.STREET or not data.area.is_active):
        errors["area"] = _("Choose a street from the list.")
    bad = [code for code in data.problems if code not in categories.VALID_CODES]
    if bad:
        errors["problems"] = _("Unknown problem category: %(codes)s.") % {"codes": ", ".join(bad)}
    elif not data.problems:
        errors["problems"] = _("Choose at least one problem category.")
    if data.chosen_risk not in TextRisk.values:
        errors["risk"] = _("Choose a risk level.")
    wrong = [i for i in data.interventions if i not in Intervention.values]
    if wrong:
        errors["interventions"] = _("Unknown intervention: %(codes)s.") % {
            "codes": ", ".join(wrong)
        }
    if data.referral not in CallReferral.values:
        errors["referral"] = _("Choose a referral from the list.")
    if data.started_at > now + CLOCK_SKEW:
        errors["started_at"] = _("The call cannot start in the future.")
    elif data.started_at < now - MAX_CALL_AGE:
        errors["started_at"] = _("Log calls within 24 hours of taking them.")
    ended = data.ended_at or now
    if "started_at" not in errors and ended < data.started_at:
        errors["ended_at"] = _("The call cannot end before it started.")
    elif ended > now + CLOCK_SKEW:
        errors["ended_at"] = _("The call cannot end in the future.")
    if data.callback_at is not None and data.callback_at < ended:
        errors["callback_at"] = _("The call-back must be after the call.")
    if len(data.callback_phone) > 40:
        errors["callback_phone"] = _("Keep the number to 40 characters.")
    if len(data.notes) > 20000:
        errors["notes"] = _("Keep the notes to 20,000 characters.")
    if data.person is not None:
        in_scope = scoped(Person.objects.filter(pk=data.person.pk), acting_user, Action.PERSON_VIEW)
        if not in_scope.filter(status=FileStatus.ACTIVE).exists():
            errors["person"] = _("Choose a person file you can see, or keep the call anonymous.")
    if errors:
        raise ValidationError(errors)


def log_call(*, acting_user: Any, centre: Unit, data: CallInput) -> Call:
    """Store one call; raise its signal when at risk (``Call.alert`` holds the crisis alert).

    ``risk`` = the highest of the answers' level (``callrisk``) and the operator's choice.
    ``text_risk`` = the triage of the notes; notes triaged high on a call judged below medium
    put the call at medium (the operator's judgement is kept, not overruled to high) and the
    signal is raised as a high one, so the crisis alert is raised all the same.
    """
    now = timezone.now()
    reason = refusal(acting_user, centre, now.astimezone(tz()).date())
    if reason:
        raise PermissionDenied(reason)
    _check_call(acting_user, centre, data, now)
    ended = data.ended_at or now
    if ended < data.started_at:
        ended = data.started_at
    risk = callrisk.call_risk(data.answers, data.chosen_risk)
    text_risk = text_risk_of(data.notes)
    if text_risk == TextRisk.HIGH:
        risk = callrisk.highest(risk, TextRisk.MEDIUM)
    signal_level = callrisk.highest(risk, TextRisk.HIGH if text_risk == TextRisk.HIGH else "none")
    a = data.answers
    with transaction.atomic(), acting(acting_user):
        shift = current_shift(acting_user, centre, data.started_at)
        call = Call.objects.create(
            reference=new_reference(),
            centre=centre,
            seat=shift.seat if shift else None,
            operator=acting_user,
            started_at=data.started_at,
            ended_at=ended,
            caller_type=data.caller_type,
            caller_sex=data.caller_sex,
            age_band=data.age_band,
            caller_group=data.caller_group,
            area=data.area,
            person=data.person,
            risk_wish_dead=a.wish_dead,
            risk_ideation=a.ideation,
            risk_method=a.method,
            risk_intent=a.intent,
            risk_plan=a.plan,
            risk_behaviour=a.behaviour,
            risk_harm_others=a.harm_others,
            risk=risk,
            text_risk=text_risk,
            interventions=sorted(set(data.interventions)),
            referral=data.referral,
            callback_at=data.callback_at,
            callback_phone=data.callback_phone.strip(),
            notes=data.notes,
        )
        CallProblem.objects.bulk_create(
            [
                CallProblem(call=call, group=categories.group_of(code), code=code)
                for code in sorted(set(data.problems))
            ]
        )
        if data.person is not None:
            record_event(
                person=data.person,
                kind=EventKind.CALL,
                actor=acting_user,
                obj=call,
                summary=_("Hotline call %(ref)s, risk %(risk)s")
                % {"ref": call.reference, "risk": TextRisk(risk).label},
            )
            from xinqiao.followups.actions import contact_made

            contact_made(
                person=data.person, on=data.started_at.astimezone(tz()).date(), actor=acting_user
            )
        if signal_level in (TextRisk.HIGH, TextRisk.MEDIUM):
            _signal, person, alert = crisis.raise_contact_signal(
                obj=call,
                unit=centre,
                person=data.person,
                source=SignalSource.HOTLINE_CALL,
                facts={"call_risk": signal_level, "text_risk": text_risk},
                actor=acting_user,
                unnamed_label=_("Anonymous caller %(ref)s") % {"ref": call.reference},
                sex=data.caller_sex,
            )
            if person is not None and call.person_id is None:
                call.person = person
            call.alert = alert
            call.save(update_fields=["person", "alert"])
        return call


def callback_done(*, acting_user: Any, call: Call) -> Call:
    _require(acting_user, Action.HOTLINE_CALL_LOG, call.centre)
    with transaction.atomic(), acting(acting_user):
        call = Call.objects.select_for_update().get(pk=call.pk)
        if call.callback_done_at is None:
            call.callback_done_at = timezone.now()
            call.save(update_fields=["callback_done_at"])
            if call.person_id is not None:
                person = Person.objects.get(pk=call.person_id)
                record_event(
                    person=person,
                    kind=EventKind.CALL,
                    actor=acting_user,
                    obj=call,
                    summary=_("Called back after hotline call %(ref)s") % {"ref": call.reference},
                )
                from xinqiao.followups.actions import contact_made

                contact_made(person=person, on=timezone.localdate(), actor=acting_user)
        return call
