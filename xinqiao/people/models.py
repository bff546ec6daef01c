"""Person files (一人一档): MISSION.md R-REG, R-CONSENT, R-PRIVACY.

One file per person (seed 000 二(三) "建立一人一档"; seed 002 篇6 三(三)1), with target groups
(seed 002 篇6 一; 篇1 二(二)(五); seed 004 四), in-hospital treatment and isolation records
(seed 000 三(一)), family links (patients' and the deceased's families, seed 002 篇6 一(一)),
consent (seed 000 二(四) "知情同意、自愿"), and a timeline. ID number, phone, address and notes
are encrypted at rest; ID number and phone are found by keyed blind index.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from xinqiao.concurrency import bump_version
from xinqiao.fields import EncryptedTextField


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO = "hk_macao_permit", _("Hong Kong / Macao resident permit")
    TAIWAN = "taiwan_permit", _("Taiwan resident permit")
    FOREIGN_PERMANENT = "foreign_permanent", _("Foreign permanent resident ID")
    OTHER = "other", _("Other document")
    NONE = "none", _("No document")


class FileStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")
    ERASED = "erased", _("Erased")


class TargetGroup(models.TextChoices):
    """MISSION.md R-REG target groups (seed 002 篇6 一, 篇1 二(二)(五); seed 004 四)."""

    CONFIRMED_PATIENT = "confirmed_patient", _("Confirmed patient")
    CURED_PATIENT = "cured_patient", _("Cured / discharged patient")
    SUSPECTED_PATIENT = "suspected_patient", _("Suspected patient")
    CLOSE_CONTACT = "close_contact", _("Close contact / under medical observation")
    FAMILY_OF_PATIENT = "family_of_patient", _("Family of a patient")
    FAMILY_OF_DECEASED = "family_of_deceased", _("Family of a deceased person")
    FRONTLINE_MEDICAL = "frontline_medical", _("Frontline medical worker")
    FRONTLINE_POLICE_COMMUNITY = (
        "frontline_police_community",
        _("Police / community frontline worker"),
    )
    HARDSHIP = "hardship", _("Low-income, extremely poor or elderly in difficulty")
    CHILD_IN_DIFFICULTY = "child_in_difficulty", _("Child in difficulty / left-behind child")
    DISABILITY = "disability", _("Person with disability")
    WOMEN_SPECIAL_PERIOD = "women_special_period", _("Woman in a special period")
    STUDENT = "student", _("Student")
    TEACHER = "teacher", _("Teacher")
    SPECIAL_POPULATION = (
        "special_population",
        _(
            "Special population (community corrections, released prisoners, drug rehabilitation, "
            "vagrants)"
        ),
    )
    SEVERE_MENTAL_DISORDER = "severe_mental_disorder", _("Patient with severe mental disorder")
    GENERAL_PUBLIC = "general_public", _("General public")


class Person(models.Model):
    """A person file. Belongs to the most specific unit known: a grid, else its community (or a
    school, hospital, …); scope follows that unit's path."""

    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="people"
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    id_type = models.CharField(
        _("document type"), max_length=24, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = EncryptedTextField(_("document number"), blank=True, default="")
    id_number_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    phone = EncryptedTextField(_("phone"), blank=True, default="")
    phone_index = models.CharField(
        max_length=64, blank=True, default="", editable=False, db_index=True
    )
    address = EncryptedTextField(_("address"), blank=True, default="")
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_relation = models.CharField(_("relation to the person"), max_length=50, blank=True)
    contact_phone = EncryptedTextField(_("contact person's phone"), blank=True, default="")
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    # Opened for an anonymous crisis contact (a hotline call or mailbox message at high risk)
    # so that its alert has a file to follow; it carries no name, only the contact's number.
    unnamed_contact = models.BooleanField(_("anonymous contact"), default=False, db_default=False)
    is_deceased = models.BooleanField(_("deceased"), default=False)
    date_of_death = models.DateField(_("date of death"), null=True, blank=True)
    # Derived from the current target groups by xinqiao.people.priority (stored for filtering).
    priority_level = models.PositiveSmallIntegerField(_("priority level"), default=4)
    status = models.CharField(
        _("status"), max_length=12, choices=FileStatus.choices, default=FileStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    erasure_reason = models.TextField(_("legal reason for erasure"), blank=True)
    # Bumped by every save of the row: edit forms refuse a stale edit (xinqiao.concurrency).
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)

    class Meta:
        verbose_name = _("person file")
        verbose_name_plural = _("person files")
        ordering = ["name"]
        constraints = [
            # 一人一档: never two files for one document number (the blind index is keyed by
            # document type and number, so the database enforces it under concurrency).
            models.UniqueConstraint(
                fields=["id_number_index"],
                name="person_one_file_per_document",
                condition=Q(id_number_index__isnull=False),
            ),
            models.CheckConstraint(
                name="person_priority_level_1_to_4",
                condition=Q(priority_level__gte=1) & Q(priority_level__lte=4),
            ),
            models.CheckConstraint(
                name="person_death_after_birth",
                condition=Q(date_of_death__isnull=True)
                | Q(birth_date__isnull=True)
                | Q(date_of_death__gte=F("birth_date")),
            ),
        ]
        indexes = [models.Index(fields=["status", "priority_level"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        bump_version(self, kwargs)
        super().save(*args, **kwargs)

    BLIND_INDEX_FIELDS = ("id_number_index", "phone_index")

    def refresh_blind_indexes(self) -> None:
        """Recompute the blind indexes with the newest key (``xinqiao rotate_keys``)."""
        from xinqiao.people.actions import id_index, phone_index

        self.id_number_index = id_index(self.id_type, self.id_number) if self.id_number else None
        self.phone_index = phone_index(self.phone) if self.phone else ""

    def age(self, on: date) -> int | None:
        from xinqiao.people.idcard import age_on

        return age_on(self.birth_date, on) if self.birth_date else None

    @property
    def masked_id_number(self) -> str:
        number = self.id_number or ""
        return number[:3] + "*" * max(len(number) - 7, 0) + number[-4:] if len(number) > 7 else ""

    @property
    def masked_phone(self) -> str:
        phone = self.phone or ""
        return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else ("****" if phone else "")


class GroupMembership(models.Model):
    """A person is in a target group from a date, until a date (or still)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="groups")
    group = models.CharField(_("target group"), max_length=32, choices=TargetGroup.choices)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("until"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("target group membership")
        ordering = ["-date_from"]
        constraints = [
            models.CheckConstraint(
                name="group_dates_in_order",
                condition=Q(date_to__isnull=True) | Q(date_to__gte=F("date_from")),
            ),
            models.UniqueConstraint(
                fields=["person", "group"],
                condition=Q(date_to__isnull=True),
                name="group_one_open_membership",
            ),
        ]

    def __str__(self) -> str:
        return self.get_group_display()

    def is_current(self, on: date) -> bool:
        return self.date_from <= on and (self.date_to is None or on <= self.date_to)


class HospitalOutcome(models.TextChoices):
    IN_HOSPITAL = "in_hospital", _("Still in hospital")
    CURED = "cured", _("Cured")
    IMPROVED = "improved", _("Improved")
    TRANSFERRED = "transferred", _("Transferred")
    DIED = "died", _("Died")
    OTHER = "other", _("Other")


class HospitalStay(models.Model):
    """In-hospital treatment (住院治疗) record (seed 000 三(一))."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="hospital_stays")
    hospital = models.CharField(_("hospital"), max_length=100)
    admitted_on = models.DateField(_("admitted"))
    discharged_on = models.DateField(_("discharged"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=HospitalOutcome.choices,
        default=HospitalOutcome.IN_HOSPITAL,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-admitted_on"]
        constraints = [
            models.CheckConstraint(
                name="hospital_discharge_after_admission",
                condition=Q(discharged_on__isnull=True) | Q(discharged_on__gte=F("admitted_on")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.hospital} {self.admitted_on}"


class IsolationKind(models.TextChoices):
    HOME = "home", _("Home isolation")
    CENTRALISED = "centralised", _("Centralised isolation")
    HOSPITAL = "hospital", _("In hospital")


class IsolationRecord(models.Model):
    """Isolation (隔离医学观察) record: place, start, end."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="isolations")
    kind = models.CharField(_("kind"), max_length=16, choices=IsolationKind.choices)
    place = models.CharField(_("place"), max_length=200)
    # The isolation site of the org tree, for centralised isolation: its staffing check counts
    # the people isolated there (seed 002 篇6 三(三)2).
    site = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("isolation site"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="isolations_here",
    )
    started_on = models.DateField(_("start"))
    ended_on = models.DateField(_("end"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                name="isolation_end_after_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.place} {self.started_on}"


class LinkKind(models.TextChoices):
    """Family links named in the seeds (002 篇6 一(一): 患者及家属, 病亡者家属)."""

    FAMILY = "family", _("Patient ↔ family member")
    BEREAVED = "bereaved", _("Deceased ↔ family of the deceased")
    GUARDIAN = "guardian", _("Minor ↔ guardian")


class Relationship(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    OTHER = "other", _("Other relative or carer")


class FamilyLink(models.Model):
    """``person`` (patient / deceased / minor) ↔ ``relative`` (family / bereaved / guardian);
    ``relationship`` is what the relative is to the person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="links_as_person")
    relative = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="links_as_relative")
    kind = models.CharField(_("kind of link"), max_length=12, choices=LinkKind.choices)
    relationship = models.CharField(_("relationship"), max_length=16, choices=Relationship.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="link_not_to_self", condition=~Q(person=F("relative"))),
            models.UniqueConstraint(fields=["person", "relative", "kind"], name="link_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.relative} → {self.person} ({self.kind})"


class ConsentPurpose(models.TextChoices):
    ASSESSMENT = "assessment", _("Psychological assessment")
    COUNSELLING = "counselling", _("Counselling")
    DATA_SHARING_HOSPITAL = "data_sharing_hospital", _("Sharing data with a hospital")
    PHONE_CONTACT = "phone_contact", _("Contact by phone")


class ConsentGiver(models.TextChoices):
    SELF = "self", _("The person")
    GUARDIAN = "guardian", _("Guardian")


class ConsentMethod(models.TextChoices):
    SIGNED_PAPER = "signed_paper", _("Signed on paper")
    ON_SCREEN = "on_screen", _("On screen")
    VERBAL_WITNESSED = "verbal_witnessed", _("Verbal, witnessed")


class Consent(models.Model):
    """Informed, voluntary consent for one purpose (seed 000 二(四); PIPL Art. 29 separate
    consent for sensitive personal information, Art. 31 guardian consent under 14)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=32, choices=ConsentPurpose.choices)
    given_by = models.CharField(_("given by"), max_length=12, choices=ConsentGiver.choices)
    guardian_name = models.CharField(_("guardian's name"), max_length=100, blank=True)
    method = models.CharField(_("method"), max_length=20, choices=ConsentMethod.choices)
    witness = models.CharField(_("witness"), max_length=100, blank=True)
    given_on = models.DateField(_("given on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawal_note = models.CharField(_("withdrawal note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-given_on", "-recorded_at"]
        constraints = [
            models.CheckConstraint(
                name="consent_guardian_named",
                condition=~Q(given_by="guardian") | ~Q(guardian_name=""),
            ),
            models.CheckConstraint(
                name="consent_verbal_witnessed",
                condition=~Q(method="verbal_witnessed") | ~Q(witness=""),
            ),
            models.UniqueConstraint(
                fields=["person", "purpose"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_one_in_force_per_purpose",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.given_on})"

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None


class EventKind(models.TextChoices):
    CREATED = "created", _("File created")
    IMPORTED = "imported", _("File imported")
    UPDATED = "updated", _("File updated")
    GROUP_ADDED = "group_added", _("Target group added")
    GROUP_ENDED = "group_ended", _("Target group ended")
    HOSPITAL_STAY = "hospital_stay", _("Hospital stay recorded")
    ISOLATION = "isolation", _("Isolation recorded")
    FAMILY_LINKED = "family_linked", _("Family link recorded")
    CONSENT_GIVEN = "consent_given", _("Consent given")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
    TRANSFER_REQUESTED = "transfer_requested", _("Transfer requested")
    TRANSFERRED = "transferred", _("Transferred to another unit")
    TRANSFER_DECLINED = "transfer_declined", _("Transfer declined")
    ARCHIVED = "archived", _("File archived")
    REACTIVATED = "reactivated", _("File reactivated")
    ERASED = "erased", _("Personal data erased")
    ASSESSMENT = "assessment", _("Assessment")
    RISK_SIGNAL = "risk_signal", _("Risk signal")
    ALERT = "alert", _("Alert")
    REFERRAL = "referral", _("Referral")
    FOLLOWUP = "followup", _("Follow-up")
    SESSION = "session", _("Counselling session")
    APPOINTMENT = "appointment", _("Appointment")
    CALL = "call", _("Hotline call")


class PersonEvent(models.Model):
    """The timeline: append-only events on a file (saleor's OrderEvent, pretix's log_action).

    ``summary`` holds no personal data beyond what the file itself shows (it survives erasure);
    ``object_type``/``object_id`` point at the object the event is about."""

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["person", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("timeline events are append-only")
        super().save(*args, **kwargs)


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


class Transfer(models.Model):
    """A file moving between units. The side that did not ask decides: a move is proposed by
    the current unit and accepted by the receiving one; a request for a file found elsewhere
    (duplicate registration) is made by the receiving unit and accepted by the current one."""

    TRANSITIONS: dict[str, frozenset[str]] = {
        TransferStatus.REQUESTED: frozenset(
            {TransferStatus.ACCEPTED, TransferStatus.DECLINED, TransferStatus.CANCELLED}
        ),
        TransferStatus.ACCEPTED: frozenset(),
        TransferStatus.DECLINED: frozenset(),
        TransferStatus.CANCELLED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="transfers")
    from_unit = models.ForeignKey(
        "orgs.Unit", on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="transfers_in")
    requested_by_receiver = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=TransferStatus.choices, default=TransferStatus.REQUESTED
    )
    reason = models.CharField(_("reason"), max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="requested"),
                name="transfer_one_open_per_person",
            ),
            models.CheckConstraint(
                name="transfer_between_different_units", condition=~Q(from_unit=F("to_unit"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_unit} → {self.to_unit} ({self.status})"

    @property
    def deciding_unit_id(self) -> Any:
        return self.from_unit_id if self.requested_by_receiver else self.to_unit_id


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
    VALID_ROWS = "valid_rows", _("Import the valid rows, skip the others")


class ImportJob(models.Model):
    """A bulk import of person files from .xlsx or .csv (R-REG "Bulk import from Excel/CSV").
    The uploaded file is kept encrypted in the data directory until the import ends."""

    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    file_name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    mode = models.CharField(
        max_length=16, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING
    )
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"row": n, "column": "证件号码", "reason": "..."}], the first 10,000.
    errors = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))


class BreakGlassReview(models.TextChoices):
    """A grant is reviewed once, by an administrator or auditor: pending → reviewed."""

    PENDING = "pending", _("Not yet reviewed")
    REVIEWED = "reviewed", _("Reviewed")


class BreakGlassGrant(models.Model):
    """Emergency access to one file outside the user's scope, with a reason, for a few hours
    (issue #10 item 8; ``xinqiao.people.breakglass``). Kept for the review; never deleted."""

    scope_path_lookup = "unit_path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person file"), on_delete=models.PROTECT, related_name="+"
    )
    # The path of the file's unit when the grant was given: whose administrators review it.
    unit_path = models.CharField(max_length=700, db_index=True)
    reason = EncryptedTextField(_("reason"))
    created_at = models.DateTimeField(_("opened at"), db_index=True)
    expires_at = models.DateTimeField(_("ends at"))
    review = models.CharField(
        _("review"),
        max_length=12,
        choices=BreakGlassReview.choices,
        default=BreakGlassReview.PENDING,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True, default="")

    class Meta:
        verbose_name = _("break-glass access")
        verbose_name_plural = _("break-glass accesses")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "person", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                name="break_glass_ends_after_it_opens",
                condition=Q(expires_at__gt=F("created_at")),
            ),
            models.CheckConstraint(name="break_glass_has_a_reason", condition=~Q(reason="")),
            models.CheckConstraint(
                name="break_glass_reviewed_has_who_and_when",
                condition=(
                    Q(review="pending") & Q(reviewed_by__isnull=True) & Q(reviewed_at__isnull=True)
                )
                | (
                    Q(review="reviewed")
                    & Q(reviewed_by__isnull=False)
                    & Q(reviewed_at__isnull=False)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.pk}"
