"""Appointments (预约咨询): MISSION.md R-BOOK; seed 002 篇2 三(三)2 (预约咨询, 每次50分钟); 003.

A counsellor publishes weekly windows (``AvailabilityWindow``) in a unit where they receive,
and exceptions (``AvailabilityChange``: a closed period, or an extra date); the bookable slots
are cut by the pure core ``xinqiao.booking.slots``. An ``Appointment`` holds one slot for one
person. No double booking: at most one active (booked) appointment per counsellor and start,
and per person and start, enforced by partial unique constraints so that two simultaneous
requests for one slot cannot both succeed.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from xinqiao.fields import EncryptedTextField


class Format(models.TextChoices):
    OFFLINE = "offline", _("In person")
    ONLINE = "online", _("Online")


class AvailabilityWindow(models.Model):
    """One weekly window: ``weekday`` 0 = Monday … 6 = Sunday, wall-clock times (Asia/Shanghai)."""

    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="availability_windows"
    )
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"))
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    format = models.CharField(
        _("format"), max_length=8, choices=Format.choices, default=Format.OFFLINE
    )
    location = models.CharField(_("place"), max_length=200, blank=True)

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(name="window_weekday_0_6", condition=Q(weekday__lte=6)),
            models.CheckConstraint(name="window_end_after_start", condition=Q(end__gt=F("start"))),
            models.CheckConstraint(
                name="window_valid_range",
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"

    def valid_on(self, day: object) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (  # type: ignore[operator]
            self.valid_until is None or day <= self.valid_until  # type: ignore[operator]
        )


class ChangeKind(models.TextChoices):
    CLOSED = "closed", _("Not available")
    EXTRA = "extra", _("Extra hours")


class AvailabilityChange(models.Model):
    """An exception to the weekly windows on one date: closed (the whole day when no times are
    given) or extra hours."""

    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="availability_changes"
    )
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=ChangeKind.choices)
    day = models.DateField(_("date"))
    start = models.TimeField(_("from"), null=True, blank=True)
    end = models.TimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["day", "start"]
        constraints = [
            models.CheckConstraint(
                name="change_extra_has_times",
                condition=~Q(kind="extra") | (Q(start__isnull=False) & Q(end__isnull=False)),
            ),
            models.CheckConstraint(
                name="change_times_both_or_neither",
                condition=Q(start__isnull=True, end__isnull=True)
                | Q(start__isnull=False, end__isnull=False, end__gt=F("start")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    RESCHEDULED = "rescheduled", _("Rescheduled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


class Channel(models.TextChoices):
    STAFF = "staff", _("Booked by staff")
    SELF = "self", _("Booked by the person through their link")
    # Issue #8: booked by the person on the public portal, signed in with a light account.
    PORTAL = "portal", _("Booked by the person on the public portal")


class Appointment(models.Model):
    """One person's appointment with one counsellor for one slot."""

    # booked → cancelled / rescheduled (the new appointment linked) / attended / no_show.
    TRANSITIONS: dict[str, frozenset[str]] = {
        AppointmentStatus.BOOKED: frozenset(
            {
                AppointmentStatus.CANCELLED,
                AppointmentStatus.RESCHEDULED,
                AppointmentStatus.ATTENDED,
                AppointmentStatus.NO_SHOW,
            }
        ),
        AppointmentStatus.CANCELLED: frozenset(),
        AppointmentStatus.RESCHEDULED: frozenset(),
        AppointmentStatus.ATTENDED: frozenset(),
        AppointmentStatus.NO_SHOW: frozenset(),
    }

    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    format = models.CharField(
        _("format"), max_length=8, choices=Format.choices, default=Format.OFFLINE
    )
    location = models.CharField(_("place"), max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.BOOKED,
    )
    channel = models.CharField(_("booked through"), max_length=8, choices=Channel.choices)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Why it was cancelled or moved (required for both).
    reason = EncryptedTextField(_("reason"), blank=True, default="")
    rescheduled_to = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rescheduled_from",
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            # No double booking (R-BOOK): one active appointment per counsellor and start ...
            models.UniqueConstraint(
                fields=["counsellor", "starts_at"],
                condition=Q(status="booked"),
                name="appointment_one_active_per_counsellor_slot",
            ),
            # ... and a person is not in two places at once.
            models.UniqueConstraint(
                fields=["person", "starts_at"],
                condition=Q(status="booked"),
                name="appointment_one_active_per_person_start",
            ),
            models.CheckConstraint(
                name="appointment_ends_after_start", condition=Q(ends_at__gt=F("starts_at"))
            ),
            models.CheckConstraint(
                name="appointment_status_known", condition=Q(status__in=AppointmentStatus.values)
            ),
            models.CheckConstraint(
                name="appointment_rescheduled_links_the_new_one",
                condition=~Q(status="rescheduled") | Q(rescheduled_to__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def reference(self) -> str:
        """A short reference that names nobody (for the calendar and the person's page)."""
        return self.id.hex[:8].upper()

    @property
    def is_active(self) -> bool:
        return self.status == AppointmentStatus.BOOKED


class BookingLink(models.Model):
    """A person's own booking link: the token is a bearer secret, stored only as its SHA-256
    digest (indexed), with an expiry; revocable."""

    scope_path_lookup = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"booking link {self.created_at:%Y-%m-%d}"


class CalendarFeed(models.Model):
    """A counsellor's secret calendar feed address (ICS); the digest of its token only."""

    counsellor = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"calendar feed {self.counsellor_id}"
