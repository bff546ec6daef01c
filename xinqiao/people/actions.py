"""Writes to person files. Keyword-only, one transaction each, timeline event and change-log
entry in the same transaction; bad input raises ValidationError keyed by field name."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinqiao.audit.log import acting
from xinqiao.concurrency import check_version
from xinqiao.fields import blind_index, blind_indexes
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, require, scoped
from xinqiao.people.events import record_event
from xinqiao.people.idcard import (
    InvalidNumber,
    age_on,
    normalise_id_number,
    normalise_phone,
    parse_resident_id,
)
from xinqiao.people.models import (
    Consent,
    ConsentGiver,
    ConsentMethod,
    ConsentPurpose,
    EventKind,
    FamilyLink,
    FileStatus,
    GroupMembership,
    HospitalOutcome,
    HospitalStay,
    IdType,
    IsolationKind,
    IsolationRecord,
    LinkKind,
    Person,
    Relationship,
    Sex,
    TargetGroup,
    Transfer,
    TransferStatus,
)
from xinqiao.people.priority import priority_level

NUMBER_PROBLEMS = {
    "id_length": gettext_lazy("A resident ID number has 18 characters."),
    "id_shape": gettext_lazy("A resident ID number is 17 digits followed by a digit or X."),
    "id_region": gettext_lazy("The address code of this ID number is not valid."),
    "id_birth_date": gettext_lazy("The birth date inside this ID number is not a real date."),
    "id_birth_impossible": gettext_lazy("The birth date inside this ID number is impossible."),
    "id_check_digit": gettext_lazy("The check digit of this ID number is wrong."),
    "phone_extension": gettext_lazy("The extension must be digits."),
    "phone_digits": gettext_lazy("A phone number contains only digits."),
    "phone_shape": gettext_lazy(
        "Enter an 11-digit mobile number or a landline with its area code."
    ),
}

# PIPL Art. 31: personal information of a minor under 14 needs the guardian's consent.
GUARDIAN_CONSENT_BELOW_AGE = 14


class DuplicatePerson(ValidationError):
    """A file with this document number exists (一人一档). ``person`` is set when the caller may
    see it; otherwise only the owning unit's name is told, so a transfer can be requested."""

    def __init__(self, existing: Person, visible: bool) -> None:
        self.person = existing if visible else None
        self.unit_name = existing.unit.name
        if visible:
            message = _("A file with this document number already exists.")
        else:
            message = _(
                "A file with this document number exists in another unit (%(unit)s). "
                "You can ask that unit to transfer it to you."
            ) % {"unit": existing.unit.name}
        super().__init__({"id_number": message})


@dataclass(frozen=True)
class CleanIdentity:
    id_type: str
    id_number: str
    id_number_index: str | None
    birth_date: date | None
    sex: str


def id_index(id_type: str, number: str) -> str:
    return blind_index(f"{id_type}:{number}", "person.id_number")


def id_indexes(id_type: str, number: str) -> list[str]:
    """Every key's index of the number: lookups must find rows not yet rotated."""
    return blind_indexes(f"{id_type}:{number}", "person.id_number")


def phone_index(phone: str) -> str:
    return blind_index(phone, "person.phone")


def clean_identity(
    *, id_type: str, id_number: str, birth_date: date | None, sex: str, today: date
) -> CleanIdentity:
    """Validate the document number and make birth date and sex agree with it."""
    if id_type not in IdType.values:
        raise ValidationError({"id_type": _("Choose a valid document type.")})
    number = normalise_id_number(id_number or "")
    if birth_date is not None and birth_date > today:
        raise ValidationError({"birth_date": _("The date of birth is in the future.")})
    if id_type == IdType.NONE:
        if number:
            raise ValidationError({"id_type": _("Choose the document type of this number.")})
        return CleanIdentity(id_type, "", None, birth_date, sex)
    if not number:
        raise ValidationError(
            {"id_number": _("Enter the document number, or choose “No document”.")}
        )
    if id_type == IdType.RESIDENT_ID:
        try:
            parsed = parse_resident_id(number, today=today)
        except InvalidNumber as exc:
            raise ValidationError({"id_number": NUMBER_PROBLEMS[exc.code]}) from None
        if birth_date is not None and birth_date != parsed.birth_date:
            raise ValidationError(
                {"birth_date": _("The date of birth does not match the ID number.")}
            )
        if sex not in ("", Sex.UNKNOWN) and sex != parsed.sex:
            raise ValidationError({"sex": _("The sex does not match the ID number.")})
        return CleanIdentity(
            id_type, parsed.number, id_index(id_type, parsed.number), parsed.birth_date, parsed.sex
        )
    if len(number) < 5 or len(number) > 32 or not number.replace("-", "").isalnum():
        raise ValidationError({"id_number": _("A document number has 5–32 letters or digits.")})
    return CleanIdentity(id_type, number, id_index(id_type, number), birth_date, sex)


def clean_phone(value: str, field: str = "phone") -> str:
    if not (value or "").strip():
        return ""
    try:
        return normalise_phone(value)
    except InvalidNumber as exc:
        raise ValidationError({field: NUMBER_PROBLEMS[exc.code]}) from None


def find_by_document(id_type: str, id_number: str) -> Person | None:
    """Exact lookup through the blind index; the table is never decrypted to search."""
    number = normalise_id_number(id_number)
    if not number:
        return None
    return (
        Person.objects.select_related("unit")
        .filter(id_number_index__in=id_indexes(id_type, number))
        .first()
    )


def document_or_phone_q(text: str) -> Q:
    """Exact search by document number (any type) or phone, through the blind indexes only."""
    number = normalise_id_number(text)
    query = Q(id_number_index__in=[i for t in IdType.values for i in id_indexes(t, number)])
    with contextlib.suppress(InvalidNumber):  # not a phone number: document number alone
        query |= Q(phone_index__in=blind_indexes(normalise_phone(text), "person.phone"))
    return query


def _check_unit(acting_user: Any, unit: Unit, action: Action = Action.PERSON_EDIT) -> None:
    if not scoped(Unit.objects.filter(pk=unit.pk), acting_user, action).exists():
        raise ValidationError({"unit": _("Choose a unit you work in.")})
    if not unit.is_active:
        raise ValidationError({"unit": _("This unit is deactivated.")})


def _refresh_priority(person: Person) -> None:
    today = timezone.localdate()
    current = [g.group for g in person.groups.all() if g.is_current(today)]
    level = priority_level(current)
    if level != person.priority_level:
        person.priority_level = level
        person.save(update_fields=["priority_level", "updated_at"])


def _reschedule(person: Person, actor: Any) -> None:
    """The follow-up plan follows the file and its groups (R-FOLLOW)."""
    from xinqiao.followups.actions import reschedule

    reschedule(person=person, reason=_("File or target groups changed"), actor=actor)


@transaction.atomic
def register_person(
    *,
    acting_user: Any,
    unit: Unit,
    name: str,
    sex: str = Sex.UNKNOWN,
    birth_date: date | None = None,
    id_type: str = IdType.RESIDENT_ID,
    id_number: str = "",
    phone: str = "",
    address: str = "",
    ethnicity: str = "",
    contact_name: str = "",
    contact_relation: str = "",
    contact_phone: str = "",
    notes: str = "",
    groups: list[str] | None = None,
    is_deceased: bool = False,
    date_of_death: date | None = None,
) -> Person:
    _check_unit(acting_user, unit)
    today = timezone.localdate()
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if len(name) > 100:
        raise ValidationError({"name": _("At most 100 characters.")})
    if sex not in Sex.values:
        raise ValidationError({"sex": _("Choose a valid option.")})
    identity = clean_identity(
        id_type=id_type, id_number=id_number, birth_date=birth_date, sex=sex, today=today
    )
    if date_of_death is not None:
        if date_of_death > today:
            raise ValidationError({"date_of_death": _("The date of death is in the future.")})
        if identity.birth_date and date_of_death < identity.birth_date:
            raise ValidationError({"date_of_death": _("The date of death is before birth.")})
        is_deceased = True
    for group in groups or []:
        if group not in TargetGroup.values:
            raise ValidationError({"groups": _("Choose valid target groups.")})
    phone = clean_phone(phone)
    contact_phone = clean_phone(contact_phone, "contact_phone")
    if identity.id_number_index:
        existing = (
            Person.objects.select_related("unit")
            .filter(id_number_index__in=id_indexes(identity.id_type, identity.id_number))
            .first()
        )
        if existing is not None:
            visible = scoped(
                Person.objects.filter(pk=existing.pk), acting_user, Action.PERSON_VIEW
            ).exists()
            raise DuplicatePerson(existing, visible)
    person = Person(
        unit=unit,
        name=name,
        sex=identity.sex or Sex.UNKNOWN,
        birth_date=identity.birth_date,
        id_type=identity.id_type,
        id_number=identity.id_number,
        id_number_index=identity.id_number_index,
        phone=phone,
        phone_index=phone_index(phone) if phone else "",
        address=(address or "").strip(),
        ethnicity=(ethnicity or "").strip()[:20],
        contact_name=(contact_name or "").strip(),
        contact_relation=(contact_relation or "").strip(),
        contact_phone=contact_phone,
        notes=(notes or "").strip(),
        is_deceased=is_deceased,
        date_of_death=date_of_death,
        priority_level=priority_level(groups or []),
        created_by=acting_user,
    )
    try:
        with acting(acting_user), transaction.atomic():
            person.save()
    except IntegrityError:
        # Another registration with the same document number committed first.
        existing = Person.objects.select_related("unit").get(
            id_number_index=identity.id_number_index
        )
        visible = scoped(
            Person.objects.filter(pk=existing.pk), acting_user, Action.PERSON_VIEW
        ).exists()
        raise DuplicatePerson(existing, visible) from None
    record_event(
        person=person,
        kind=EventKind.CREATED,
        actor=acting_user,
        obj=person,
        summary=_("Registered in %(unit)s") % {"unit": unit.name},
    )
    for group in groups or []:
        membership = GroupMembership.objects.create(
            person=person, group=group, date_from=today, recorded_by=acting_user
        )
        record_event(
            person=person,
            kind=EventKind.GROUP_ADDED,
            actor=acting_user,
            obj=membership,
            summary=str(TargetGroup(group).label),
        )
    _reschedule(person, acting_user)
    return person


EDITABLE_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "id_type",
    "id_number",
    "phone",
    "address",
    "contact_name",
    "contact_relation",
    "contact_phone",
    "notes",
    "is_deceased",
    "date_of_death",
)


@transaction.atomic
def update_person(
    *,
    acting_user: Any,
    person: Person,
    expected_version: int | None = None,
    read_digests: str = "",
    **changes: Any,
) -> Person:
    """Edit the file's details. With ``expected_version`` (the edit form's, issue #10 item 5)
    an edit of a file someone changed since it was read is refused (``StaleEdit``, naming the
    changed fields; ``read_digests`` tells which). The row is locked, compared and saved —
    never ``QuerySet.update``: the aggregate tables watch saves of files."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    require(acting_user, Action.PERSON_EDIT, person.unit)
    if person.status == FileStatus.ERASED:
        raise ValidationError({"person": _("This file has been erased.")})
    check_version(person, expected=expected_version, token=read_digests, fields=EDITABLE_FIELDS)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    values = {f: getattr(person, f) for f in EDITABLE_FIELDS} | changes
    today = timezone.localdate()
    name = (values["name"] or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    identity = clean_identity(
        id_type=values["id_type"],
        id_number=values["id_number"],
        birth_date=values["birth_date"],
        sex=values["sex"],
        today=today,
    )
    if identity.id_number_index and identity.id_number_index != person.id_number_index:
        existing = (
            Person.objects.filter(
                id_number_index__in=id_indexes(identity.id_type, identity.id_number)
            )
            .exclude(pk=person.pk)
            .first()
        )
        if existing is not None:
            visible = scoped(
                Person.objects.filter(pk=existing.pk), acting_user, Action.PERSON_VIEW
            ).exists()
            raise DuplicatePerson(existing, visible)
    phone = clean_phone(values["phone"])
    person.name = name
    person.sex = identity.sex or Sex.UNKNOWN
    person.birth_date = identity.birth_date
    person.id_type = identity.id_type
    person.id_number = identity.id_number
    person.id_number_index = identity.id_number_index
    person.phone = phone
    person.phone_index = phone_index(phone) if phone else ""
    person.address = (values["address"] or "").strip()
    person.ethnicity = (values["ethnicity"] or "").strip()[:20]
    person.contact_name = (values["contact_name"] or "").strip()
    person.contact_relation = (values["contact_relation"] or "").strip()
    person.contact_phone = clean_phone(values["contact_phone"], "contact_phone")
    person.notes = (values["notes"] or "").strip()
    person.date_of_death = values["date_of_death"]
    person.is_deceased = bool(values["is_deceased"] or values["date_of_death"])
    if person.date_of_death and person.date_of_death > today:
        raise ValidationError({"date_of_death": _("The date of death is in the future.")})
    try:
        with acting(acting_user), transaction.atomic():
            person.save()
    except IntegrityError:
        raise ValidationError(
            {"id_number": _("A file with this document number already exists.")}
        ) from None
    record_event(
        person=person,
        kind=EventKind.UPDATED,
        actor=acting_user,
        obj=person,
        summary=_("File details updated"),
    )
    return person


@transaction.atomic
def add_group(
    *,
    acting_user: Any,
    person: Person,
    group: str,
    date_from: date,
    date_to: date | None = None,
) -> GroupMembership:
    require(acting_user, Action.PERSON_EDIT, person.unit)
    if group not in TargetGroup.values:
        raise ValidationError({"group": _("Choose a valid target group.")})
    if date_from > timezone.localdate():
        raise ValidationError({"date_from": _("The start date is in the future.")})
    if date_to is not None and date_to < date_from:
        raise ValidationError({"date_to": _("The end date is before the start date.")})
    if date_to is None and person.groups.filter(group=group, date_to__isnull=True).exists():
        raise ValidationError({"group": _("The person is already in this group.")})
    with acting(acting_user):
        membership = GroupMembership.objects.create(
            person=person,
            group=group,
            date_from=date_from,
            date_to=date_to,
            recorded_by=acting_user,
        )
    _refresh_priority(person)
    record_event(
        person=person,
        kind=EventKind.GROUP_ADDED,
        actor=acting_user,
        obj=membership,
        summary=str(TargetGroup(group).label),
    )
    _reschedule(person, acting_user)
    return membership


@transaction.atomic
def end_group(*, acting_user: Any, membership: GroupMembership, date_to: date) -> GroupMembership:
    person = membership.person
    require(acting_user, Action.PERSON_EDIT, person.unit)
    if membership.date_to is not None:
        raise ValidationError({"date_to": _("This membership has already ended.")})
    if date_to < membership.date_from:
        raise ValidationError({"date_to": _("The end date is before the start date.")})
    membership.date_to = date_to
    with acting(acting_user):
        membership.save(update_fields=["date_to"])
    _refresh_priority(person)
    record_event(
        person=person,
        kind=EventKind.GROUP_ENDED,
        actor=acting_user,
        obj=membership,
        summary=str(membership.get_group_display()),
    )
    _reschedule(person, acting_user)
    return membership


@transaction.atomic
def record_hospital_stay(
    *,
    acting_user: Any,
    person: Person,
    hospital: str,
    admitted_on: date,
    discharged_on: date | None = None,
    outcome: str = HospitalOutcome.IN_HOSPITAL,
) -> HospitalStay:
    require(acting_user, Action.PERSON_EDIT, person.unit)
    today = timezone.localdate()
    if not (hospital or "").strip():
        raise ValidationError({"hospital": _("This field is required.")})
    if admitted_on > today:
        raise ValidationError({"admitted_on": _("The admission date is in the future.")})
    if discharged_on is not None and discharged_on < admitted_on:
        raise ValidationError({"discharged_on": _("Discharged before admitted.")})
    if discharged_on is not None and discharged_on > today:
        raise ValidationError({"discharged_on": _("The discharge date is in the future.")})
    if outcome not in HospitalOutcome.values:
        raise ValidationError({"outcome": _("Choose a valid option.")})
    with acting(acting_user):
        stay = HospitalStay.objects.create(
            person=person,
            hospital=hospital.strip(),
            admitted_on=admitted_on,
            discharged_on=discharged_on,
            outcome=outcome,
            recorded_by=acting_user,
        )
    record_event(
        person=person,
        kind=EventKind.HOSPITAL_STAY,
        actor=acting_user,
        obj=stay,
        summary=f"{stay.hospital} {admitted_on:%Y-%m-%d}",
    )
    return stay


def isolation_sites_for(person: Person) -> QuerySet[Unit]:
    """The isolation sites a person of this file may be isolated at: the active sites of the
    person's city (a site is run by a district or street, its guests come from anywhere)."""
    return Unit.objects.filter(
        kind=UnitKind.ISOLATION_SITE,
        is_active=True,
        path__startswith=person.unit.ancestor_paths()[0],
    ).order_by("name")


@transaction.atomic
def record_isolation(
    *,
    acting_user: Any,
    person: Person,
    kind: str,
    place: str,
    started_on: date,
    ended_on: date | None = None,
    site: Any = None,
) -> IsolationRecord:
    require(acting_user, Action.PERSON_EDIT, person.unit)
    if kind not in IsolationKind.values:
        raise ValidationError({"kind": _("Choose a valid option.")})
    if site is not None and (
        kind != IsolationKind.CENTRALISED
        or not isolation_sites_for(person).filter(pk=site.pk).exists()
    ):
        raise ValidationError(
            {"site": _("Choose an active isolation site of this city, for centralised isolation.")}
        )
    if not (place or "").strip():
        raise ValidationError({"place": _("This field is required.")})
    if started_on > timezone.localdate():
        raise ValidationError({"started_on": _("The start date is in the future.")})
    if ended_on is not None and ended_on < started_on:
        raise ValidationError({"ended_on": _("The end date is before the start date.")})
    with acting(acting_user):
        record = IsolationRecord.objects.create(
            person=person,
            kind=kind,
            place=place.strip(),
            site=site,
            started_on=started_on,
            ended_on=ended_on,
            recorded_by=acting_user,
        )
    record_event(
        person=person,
        kind=EventKind.ISOLATION,
        actor=acting_user,
        obj=record,
        summary=f"{record.get_kind_display()} {started_on:%Y-%m-%d}",
    )
    return record


@transaction.atomic
def link_family(
    *, acting_user: Any, person: Person, relative: Person, kind: str, relationship: str
) -> FamilyLink:
    require(acting_user, Action.PERSON_EDIT, person.unit)
    if not scoped(Person.objects.filter(pk=relative.pk), acting_user, Action.PERSON_VIEW).exists():
        raise ValidationError({"relative": _("Choose a person file you can see.")})
    if kind not in LinkKind.values:
        raise ValidationError({"kind": _("Choose a valid option.")})
    if relationship not in Relationship.values:
        raise ValidationError({"relationship": _("Choose a valid option.")})
    if relative.pk == person.pk:
        raise ValidationError({"relative": _("A person cannot be linked to themselves.")})
    if kind == LinkKind.BEREAVED and not person.is_deceased:
        raise ValidationError({"kind": _("Record the person as deceased first.")})
    try:
        with acting(acting_user), transaction.atomic():
            link = FamilyLink.objects.create(
                person=person,
                relative=relative,
                kind=kind,
                relationship=relationship,
                recorded_by=acting_user,
            )
    except IntegrityError:
        raise ValidationError({"relative": _("This link is already recorded.")}) from None
    summary = f"{LinkKind(kind).label}: {Relationship(relationship).label}"
    record_event(
        person=person, kind=EventKind.FAMILY_LINKED, actor=acting_user, obj=link, summary=summary
    )
    record_event(
        person=relative, kind=EventKind.FAMILY_LINKED, actor=acting_user, obj=link, summary=summary
    )
    return link


@transaction.atomic
def give_consent(
    *,
    acting_user: Any,
    person: Person,
    purpose: str,
    given_by: str,
    method: str,
    given_on: date,
    guardian_name: str = "",
    witness: str = "",
) -> Consent:
    """Record consent (seed 000 二(四) 知情同意; PIPL Art. 29, 31)."""
    require(acting_user, Action.PERSON_EDIT, person.unit)
    return _record_consent(
        actor=acting_user,
        person=person,
        purpose=purpose,
        given_by=given_by,
        method=method,
        given_on=given_on,
        guardian_name=guardian_name,
        witness=witness,
    )


def record_consent_on_screen(
    *, person: Person, purpose: str, given_by: str, guardian_name: str = ""
) -> Consent:
    """Consent the person (or their guardian) gave themselves, on screen, through a link sent
    to them (a self-assessment invitation): nobody signed in, the same rules apply."""
    return _record_consent(
        actor=None,
        person=person,
        purpose=purpose,
        given_by=given_by,
        method=ConsentMethod.ON_SCREEN,
        given_on=timezone.localdate(),
        guardian_name=guardian_name,
        witness="",
    )


def _record_consent(
    *,
    actor: Any,
    person: Person,
    purpose: str,
    given_by: str,
    method: str,
    given_on: date,
    guardian_name: str,
    witness: str,
) -> Consent:
    if purpose not in ConsentPurpose.values:
        raise ValidationError({"purpose": _("Choose a valid purpose.")})
    if given_by not in ConsentGiver.values:
        raise ValidationError({"given_by": _("Choose who gave consent.")})
    if method not in ConsentMethod.values:
        raise ValidationError({"method": _("Choose how consent was given.")})
    today = timezone.localdate()
    if given_on > today:
        raise ValidationError({"given_on": _("The date is in the future.")})
    if person.status == FileStatus.ERASED:
        raise ValidationError({"person": _("This file has been erased.")})
    age = age_on(person.birth_date, given_on) if person.birth_date else None
    if given_by == ConsentGiver.SELF and age is not None and age < GUARDIAN_CONSENT_BELOW_AGE:
        raise ValidationError(
            {
                "given_by": _(
                    "This person is under 14: a guardian must give consent "
                    "(Personal Information Protection Law, Art. 31)."
                )
            }
        )
    guardian_name = (guardian_name or "").strip()
    if given_by == ConsentGiver.GUARDIAN and not guardian_name:
        raise ValidationError({"guardian_name": _("Enter the guardian's name.")})
    witness = (witness or "").strip()
    if method == ConsentMethod.VERBAL_WITNESSED and not witness:
        raise ValidationError({"witness": _("Verbal consent needs a witness.")})
    if Consent.objects.filter(person=person, purpose=purpose, withdrawn_at__isnull=True).exists():
        raise ValidationError({"purpose": _("Consent for this purpose is already in force.")})
    with acting(actor):
        consent = Consent.objects.create(
            person=person,
            purpose=purpose,
            given_by=given_by,
            guardian_name=guardian_name,
            method=method,
            witness=witness,
            given_on=given_on,
            recorded_by=actor,
        )
    record_event(
        person=person,
        kind=EventKind.CONSENT_GIVEN,
        actor=actor,
        obj=consent,
        summary=str(ConsentPurpose(purpose).label),
    )
    return consent


@transaction.atomic
def withdraw_consent(*, acting_user: Any, consent: Consent, note: str = "") -> Consent:
    """A person may withdraw consent at any time (seed 000 二(四) 自愿)."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    require(acting_user, Action.PERSON_EDIT, consent.person.unit)
    if consent.withdrawn_at is not None:
        raise ValidationError({"consent": _("This consent was already withdrawn.")})
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = acting_user
    consent.withdrawal_note = (note or "").strip()[:200]
    with acting(acting_user):
        consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])
    record_event(
        person=consent.person,
        kind=EventKind.CONSENT_WITHDRAWN,
        actor=acting_user,
        obj=consent,
        summary=str(consent.get_purpose_display()),
    )
    return consent


def _open_transfer(person: Person) -> Transfer | None:
    return Transfer.objects.filter(person=person, status=TransferStatus.REQUESTED).first()


@transaction.atomic
def propose_transfer(*, acting_user: Any, person: Person, to_unit: Unit, reason: str) -> Transfer:
    """The current unit proposes to move the file (the person moved); the receiving unit
    accepts."""
    person = Person.objects.select_for_update().select_related("unit").get(pk=person.pk)
    require(acting_user, Action.PERSON_TRANSFER, person.unit)
    return _create_transfer(
        acting_user=acting_user, person=person, to_unit=to_unit, reason=reason, by_receiver=False
    )


@transaction.atomic
def request_file(
    *, acting_user: Any, id_type: str, id_number: str, to_unit: Unit, reason: str
) -> Transfer:
    """A unit that found the person's file elsewhere (duplicate registration) asks the owning
    unit to transfer it."""
    _check_unit(acting_user, to_unit, Action.PERSON_TRANSFER)
    person = find_by_document(id_type, id_number)
    if person is None:
        raise ValidationError({"id_number": _("No file with this document number exists.")})
    person = Person.objects.select_for_update().select_related("unit").get(pk=person.pk)
    return _create_transfer(
        acting_user=acting_user, person=person, to_unit=to_unit, reason=reason, by_receiver=True
    )


def _create_transfer(
    *, acting_user: Any, person: Person, to_unit: Unit, reason: str, by_receiver: bool
) -> Transfer:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the file should move.")})
    if not to_unit.is_active:
        raise ValidationError({"to_unit": _("This unit is deactivated.")})
    if to_unit.pk == person.unit_id:
        raise ValidationError({"to_unit": _("The file is already in this unit.")})
    if person.status == FileStatus.ERASED:
        raise ValidationError({"person": _("This file has been erased.")})
    if _open_transfer(person) is not None:
        raise ValidationError({"to_unit": _("A transfer of this file is already waiting.")})
    with acting(acting_user):
        transfer = Transfer.objects.create(
            person=person,
            from_unit=person.unit,
            to_unit=to_unit,
            requested_by_receiver=by_receiver,
            reason=reason[:200],
            requested_by=acting_user,
        )
    record_event(
        person=person,
        kind=EventKind.TRANSFER_REQUESTED,
        actor=acting_user,
        obj=transfer,
        summary=f"{person.unit.name} → {to_unit.name}",
    )
    return transfer


def transfers_to_decide(user: Any) -> QuerySet[Transfer]:
    """Open transfers whose deciding unit is in ``user``'s scope for transfers."""
    units = scoped(Unit.objects.all(), user, Action.PERSON_TRANSFER)
    deciding = Q(requested_by_receiver=False, to_unit__in=units) | Q(
        requested_by_receiver=True, from_unit__in=units
    )
    return (
        Transfer.objects.filter(status=TransferStatus.REQUESTED)
        .filter(deciding)
        .select_related("person", "from_unit", "to_unit")
    )


@transaction.atomic
def decide_transfer(
    *, acting_user: Any, transfer: Transfer, accept: bool, note: str = ""
) -> Transfer:
    transfer = (
        Transfer.objects.select_for_update()
        .select_related("person", "from_unit", "to_unit")
        .get(pk=transfer.pk)
    )
    deciding_unit = transfer.to_unit if not transfer.requested_by_receiver else transfer.from_unit
    if not can(acting_user, Action.PERSON_TRANSFER, deciding_unit):
        raise PermissionDenied(_("You do not have permission to do this."))
    new_status = TransferStatus.ACCEPTED if accept else TransferStatus.DECLINED
    if new_status not in Transfer.TRANSITIONS[transfer.status]:
        raise ValidationError({"transfer": _("This transfer has already been decided.")})
    person = Person.objects.select_for_update().get(pk=transfer.person_id)
    transfer.status = new_status
    transfer.decided_by = acting_user
    transfer.decided_at = timezone.now()
    transfer.decision_note = (note or "").strip()[:200]
    with acting(acting_user):
        transfer.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if accept:
            person.unit = transfer.to_unit
            person.save(update_fields=["unit", "updated_at"])
    record_event(
        person=person,
        kind=EventKind.TRANSFERRED if accept else EventKind.TRANSFER_DECLINED,
        actor=acting_user,
        obj=transfer,
        summary=f"{transfer.from_unit.name} → {transfer.to_unit.name}",
    )
    return transfer


@transaction.atomic
def cancel_transfer(*, acting_user: Any, transfer: Transfer) -> Transfer:
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.requested_by_id != acting_user.pk:
        raise PermissionDenied(_("Only the person who asked can cancel."))
    if TransferStatus.CANCELLED not in Transfer.TRANSITIONS[transfer.status]:
        raise ValidationError({"transfer": _("This transfer has already been decided.")})
    transfer.status = TransferStatus.CANCELLED
    transfer.decided_at = timezone.now()
    with acting(acting_user):
        transfer.save(update_fields=["status", "decided_at"])
    return transfer


@transaction.atomic
def set_archived(*, acting_user: Any, person: Person, archived: bool) -> Person:
    """Archive: hidden from lists, kept whole. Reactivate: back in the lists."""
    require(acting_user, Action.PERSON_ARCHIVE, person.unit)
    if person.status == FileStatus.ERASED:
        raise ValidationError({"person": _("This file has been erased.")})
    person.status = FileStatus.ARCHIVED if archived else FileStatus.ACTIVE
    person.archived_at = timezone.now() if archived else None
    with acting(acting_user):
        person.save(update_fields=["status", "archived_at", "updated_at"])
    record_event(
        person=person,
        kind=EventKind.ARCHIVED if archived else EventKind.REACTIVATED,
        actor=acting_user,
        obj=person,
    )
    return person


class ErasureReason(models.TextChoices):
    """Legal grounds for erasure (PIPL Art. 47: deletion when the purpose is achieved, consent
    is withdrawn, the retention period ends, or processing was unlawful)."""

    CONSENT_WITHDRAWN = (
        "consent_withdrawn",
        gettext_lazy("Consent withdrawn and deletion requested (PIPL Art. 47)"),
    )
    RETENTION_EXPIRED = "retention_expired", gettext_lazy("Retention period expired (PIPL Art. 47)")
    PURPOSE_ACHIEVED = (
        "purpose_achieved",
        gettext_lazy("Purpose achieved, no longer needed (PIPL Art. 47)"),
    )
    REGISTERED_IN_ERROR = "registered_in_error", gettext_lazy("Registered in error")
    ORDER = "court_or_authority", gettext_lazy("Order of a court or competent authority")


# What later capabilities destroy of an erased file's personal data (their own records of the
# person); each step runs in the erasure's transaction. Registered in their apps' ready().
ERASURE_STEPS: list[Callable[[Person], None]] = []


@transaction.atomic
def erase_person(*, acting_user: Any, person: Person, legal_reason: str, note: str) -> Person:
    """Destroy the personal fields of a file; keep what statistics need (sex, birth year,
    unit, groups, priority level, dates of events) and every audit entry."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    require(acting_user, Action.PERSON_ERASE, person.unit)
    if legal_reason not in ErasureReason.values:
        raise ValidationError({"legal_reason": _("Choose the legal reason.")})
    note = (note or "").strip()
    if len(note) < 5:
        raise ValidationError({"note": _("Describe the request or decision (e.g. its number).")})
    if person.status == FileStatus.ERASED:
        raise ValidationError({"person": _("This file has already been erased.")})
    person.name = _("(erased)")
    person.id_number = ""
    person.id_number_index = None
    person.phone = ""
    person.phone_index = ""
    person.address = ""
    person.contact_name = ""
    person.contact_relation = ""
    person.contact_phone = ""
    person.notes = ""
    person.ethnicity = ""
    if person.birth_date is not None:
        person.birth_date = person.birth_date.replace(month=1, day=1)
    person.status = FileStatus.ERASED
    person.erased_at = timezone.now()
    person.erasure_reason = f"{legal_reason}: {note}"
    with acting(acting_user):
        person.save()
        Consent.objects.filter(person=person).update(guardian_name="", witness="")
        HospitalStay.objects.filter(person=person).update(hospital="")
        IsolationRecord.objects.filter(person=person).update(place="")
        for step in ERASURE_STEPS:
            step(person)
    record_event(
        person=person, kind=EventKind.ERASED, actor=acting_user, obj=person, summary=legal_reason
    )
    return person
