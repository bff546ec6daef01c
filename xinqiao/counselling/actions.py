"""Writes of counselling (R-SESSION): recording a session with its case records, corrections.

Seed 002 篇6 三(二)2 (心理疏导 … 建立个案记录); seed 000 二(四) (知情同意、自愿: counselling only
with the person's consent in force, R-CONSENT).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.audit.log import acting
from xinqiao.booking import actions as booking_actions
from xinqiao.booking.models import Appointment, AppointmentStatus
from xinqiao.concurrency import check_version
from xinqiao.counselling.models import (
    ParticipantRole,
    Programme,
    Session,
    SessionFormat,
    SessionKind,
    SessionParticipant,
    Technique,
    Toolkit,
)
from xinqiao.followups import actions as followups_actions
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import require, scoped
from xinqiao.people.access import has_consent
from xinqiao.people.events import record_event
from xinqiao.people.models import ConsentPurpose, EventKind, FileStatus, Person

# A session's time may be a little ahead of the server's clock (a phone's clock), not more.
FUTURE_TOLERANCE = timedelta(minutes=5)
CASE_FIELDS = ("basic_situation", "self_evaluation", "life_events", "advice", "note")


def _common_unit(people: list[Person]) -> Unit:
    """The deepest unit containing every participant's file: the session's scope."""
    segments = [p.unit.path.strip("/").split("/") for p in people]
    common: list[str] = []
    for parts in zip(*segments, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return Unit.objects.get(path="/" + "/".join(common) + "/")


def _choices(field: str, values: Iterable[str] | None, allowed: list[str]) -> list[str]:
    values = list(dict.fromkeys(values or []))
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValidationError({field: _("Choose from the list.")})
    return values


def record_session(
    *,
    acting_user: Any,
    kind: str,
    format: str,
    held_at: datetime,
    participants: Sequence[Mapping[str, Any]],
    minutes: int = 50,
    title: str = "",
    techniques: Iterable[str] | None = None,
    plan: str = "",
    toolkit: Iterable[str] | None = None,
    programme: Programme | None = None,
    co_counsellors: Iterable[Any] = (),
    appointment: Appointment | None = None,
) -> Session:
    """Record a session and its participants' case records in one transaction.

    ``participants``: dicts with ``person`` (a Person or its id), optional ``role`` (client /
    family_member), ``attended`` and the case-record parts ``basic_situation``,
    ``self_evaluation``, ``life_events``, ``advice``, ``note``.
    """
    with transaction.atomic():
        return _record_session(
            acting_user=acting_user,
            kind=kind,
            format=format,
            held_at=held_at,
            participants=participants,
            minutes=minutes,
            title=title,
            techniques=techniques,
            plan=plan,
            toolkit=toolkit,
            programme=programme,
            co_counsellors=co_counsellors,
            appointment=appointment,
        )


def _record_session(
    *,
    acting_user: Any,
    kind: str,
    format: str,
    held_at: datetime,
    participants: Sequence[Mapping[str, Any]],
    minutes: int,
    title: str,
    techniques: Iterable[str] | None,
    plan: str,
    toolkit: Iterable[str] | None,
    programme: Programme | None,
    appointment: Appointment | None,
    co_counsellors: Iterable[Any],
) -> Session:
    if kind not in SessionKind.values:
        raise ValidationError({"kind": _("Choose individual, family or group.")})
    if format not in SessionFormat.values:
        raise ValidationError({"format": _("Choose online or in person.")})
    if held_at is None or timezone.is_naive(held_at):
        raise ValidationError({"held_at": _("Give the date and time of the session.")})
    if held_at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"held_at": _("A session cannot be recorded in the future.")})
    if not isinstance(minutes, int) or minutes <= 0 or minutes > 600:
        raise ValidationError({"minutes": _("Give the length in minutes (1 to 600).")})
    techniques = _choices("techniques", techniques, Technique.values)
    toolkit = _choices("toolkit", toolkit, Toolkit.values)
    if not participants:
        raise ValidationError({"participants": _("Add at least one participant.")})
    serveable = scoped(Person.objects.select_related("unit"), acting_user, Action.SESSION_RECORD)
    rows: list[tuple[Person, Mapping[str, Any]]] = []
    seen: set[Any] = set()
    for index, row in enumerate(participants, start=1):
        ref = row.get("person")
        pk = getattr(ref, "pk", ref)
        # One message for "missing" and "not yours": nothing about who exists (R-PRIVACY).
        not_found = ValidationError(
            {
                "participants": _("Participant %(row)s: not found among the people you serve.")
                % {"row": index}
            }
        )
        try:
            person = serveable.filter(status=FileStatus.ACTIVE).get(pk=pk)  # type: ignore[misc]
        except (Person.DoesNotExist, ValueError, TypeError, ValidationError):
            raise not_found from None
        if person.pk in seen:
            raise ValidationError(
                {"participants": _("%(name)s is listed twice.") % {"name": person.name}}
            )
        seen.add(person.pk)
        # Seed 000 二(四) 知情同意、自愿; R-CONSENT.
        if not has_consent(person, ConsentPurpose.COUNSELLING):
            raise ValidationError(
                {
                    "participants": _(
                        "No consent for counselling is on file for %(name)s. Record their (or "
                        "their guardian's) consent first."
                    )
                    % {"name": person.name}
                }
            )
        role = row.get("role") or ParticipantRole.CLIENT
        if role not in ParticipantRole.values:
            raise ValidationError({"participants": _("Choose client or family member.")})
        rows.append((person, row))
    clients = [p for p, r in rows if (r.get("role") or ParticipantRole.CLIENT) == "client"]
    if kind == SessionKind.INDIVIDUAL:
        if len(rows) != 1 or len(clients) != 1:
            raise ValidationError(
                {"participants": _("An individual session has exactly one client.")}
            )
        # Seed 002 篇6 三(二)2 建立个案记录: an individual session's case record is required.
        missing = [f for f in CASE_FIELDS[:4] if not str(rows[0][1].get(f) or "").strip()]
        if missing:
            raise ValidationError({f: _("Fill in this part of the case record.") for f in missing})
    elif len(rows) < 2:
        raise ValidationError(
            {"participants": _("A family or group session has at least two participants.")}
        )
    elif not clients:
        raise ValidationError({"participants": _("Mark at least one participant as a client.")})
    if (
        programme is not None
        and not scoped(
            Programme.objects.filter(pk=programme.pk), acting_user, Action.SESSION_RECORD
        ).exists()
    ):
        raise ValidationError({"programme": _("Choose a programme of your unit.")})
    unit = _common_unit([p for p, _r in rows])
    if appointment is not None:
        _check_appointment(acting_user, appointment, [p for p, _r in rows])
    with acting(acting_user):
        session = Session.objects.create(
            unit=unit,
            kind=kind,
            format=format,
            held_at=held_at,
            minutes=minutes,
            counsellor=acting_user,
            title=(title or "").strip()[:200],
            techniques=techniques,
            plan=(plan or "").strip(),
            toolkit=toolkit,
            programme=programme,
            appointment=appointment,
            recorded_by=acting_user,
        )
        co = [u for u in co_counsellors if getattr(u, "pk", None) != acting_user.pk]
        if co:
            session.co_counsellors.set(co)
        for person, row in rows:
            SessionParticipant.objects.create(
                session=session,
                person=person,
                role=row.get("role") or ParticipantRole.CLIENT,
                attended=bool(row.get("attended", True)),
                **{f: str(row.get(f) or "").strip() for f in CASE_FIELDS},
            )
            # The timeline says that a session took place, never what was said.
            record_event(
                person=person,
                kind=EventKind.SESSION,
                actor=acting_user,
                obj=session,
                summary=_("%(kind)s counselling session (%(format)s)")
                % {"kind": session.get_kind_display(), "format": session.get_format_display()},
            )
        # A session is a contact with each person who came: their follow-up plan's next due
        # date moves on (R-FOLLOW; seed 000 二(五) 随访 includes 心理疏导).
        held_on = timezone.localdate(held_at)
        for participant in session.participants.filter(attended=True).select_related("person"):
            followups_actions.contact_made(person=participant.person, on=held_on, actor=acting_user)
        if appointment is not None:
            booking_actions.mark_attended(acting_user=acting_user, appointment=appointment)
    return session


def _check_appointment(acting_user: Any, appointment: Appointment, people: list[Person]) -> None:
    """A session recorded for an appointment: still booked, begun, one of its people, and
    the acting user is its counsellor (or may manage it)."""
    if (
        appointment.status != AppointmentStatus.BOOKED
        or appointment.person_id not in {p.pk for p in people}
        or not booking_actions.may_manage(acting_user, appointment)
        or appointment.starts_at > timezone.now()
    ):
        raise ValidationError(
            {"appointment": _("This appointment is not open for a session of these people.")}
        )


@transaction.atomic
def update_case_record(
    *,
    acting_user: Any,
    participant: SessionParticipant,
    expected_version: int | None = None,
    read_digests: str = "",
    **changes: str,
) -> SessionParticipant:
    """Correct a participant's case record (audited through the change log). With
    ``expected_version`` (the edit form's, issue #10 item 5) a correction of a record someone
    changed since it was read is refused (``xinqiao.concurrency.StaleEdit``)."""
    participant = (
        SessionParticipant.objects.select_for_update()
        .select_related("session__unit")
        .get(pk=participant.pk)
    )
    require(acting_user, Action.SESSION_RECORD, participant.session.unit)
    require(acting_user, Action.SESSION_NOTES_VIEW, participant.session.unit)
    check_version(participant, expected=expected_version, token=read_digests, fields=CASE_FIELDS)
    unknown = set(changes) - set(CASE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This is not part of the case record.")})
    if participant.session.kind == SessionKind.INDIVIDUAL:
        empty = [f for f in CASE_FIELDS[:4] if f in changes and not str(changes[f]).strip()]
        if empty:
            raise ValidationError({f: _("Fill in this part of the case record.") for f in empty})
    fields = []
    for name, value in changes.items():
        value = str(value or "").strip()
        if getattr(participant, name) != value:
            setattr(participant, name, value)
            fields.append(name)
    if fields:
        with acting(acting_user):
            participant.save(update_fields=[*fields, "updated_at"])
    return participant


@transaction.atomic
def create_programme(
    *, acting_user: Any, unit: Unit, name: str, kind: str, starts_on: Any, ends_on: Any = None
) -> Programme:
    require(acting_user, Action.SESSION_RECORD, unit)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the programme a name.")})
    if kind not in Programme.Kind.values:
        raise ValidationError({"kind": _("Choose from the list.")})
    if starts_on is None:
        raise ValidationError({"starts_on": _("Give the start date.")})
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end cannot be before the start.")})
    with acting(acting_user):
        return Programme.objects.create(
            unit=unit, name=name[:200], kind=kind, starts_on=starts_on, ends_on=ends_on
        )


def erase_session_texts(person: Person) -> None:
    """Erasure step (R-PRIVACY): blank the person's case records."""
    SessionParticipant.objects.filter(person=person).update(**dict.fromkeys(CASE_FIELDS, ""))
