"""The public portal (issue #8): daily visit counts per unit and page.

A visitor is never identified: the portal knows only which unit's QR code or link brought them
(the unit in the URL), so visits are counted per unit, day and page, without an address,
a cookie id or any other trace of the person.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinqiao.fields import EncryptedTextField


class PortalPage(models.TextChoices):
    HOME = "home", _("Home")
    HELP = "help", _("I need help now")
    LEARN = "learn", _("Lessons and articles")
    ASSESS = "assess", _("Self-assessment")
    BOOK = "book", _("Booking")
    MAILBOX = "mailbox", _("Mailbox")
    ME = "me", _("My page")


class PortalVisit(models.Model):
    """How many pages of one kind a unit's portal served on one day (Beijing time)."""

    scope_path_lookup = "unit__path"

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    page = models.CharField(_("page"), max_length=12, choices=PortalPage.choices)
    count = models.PositiveIntegerField(_("visits"), default=0)

    class Meta:
        verbose_name = _("portal visits")
        constraints = [
            models.UniqueConstraint(fields=["unit", "day", "page"], name="portal_visit_one_row"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.day} {self.page} {self.count}"


# --- light accounts (issue #8 item 5) --------------------------------------------------------
# A member of the public may sign in with a mobile number and a one-time code sent by SMS to
# see their own bookings, mailbox threads and self-assessment results. Nothing is needed to
# read, to assess anonymously or to write to the mailbox. The number is stored encrypted with a
# blind index for the lookup; codes are stored only as a keyed digest.


class PortalAccount(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone = EncryptedTextField(_("mobile number"))
    # xinqiao.people.actions.phone_index of the normalised number (unique: one account a number).
    phone_index = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    # Wrong codes since the last lock or sign-in; at the limit the number is locked.
    failed_codes = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("portal account")
        constraints = [
            models.CheckConstraint(
                name="portal_account_has_index", condition=~models.Q(phone_index="")
            ),
        ]

    def __str__(self) -> str:
        return f"account {self.pk}"


class SignInCode(models.Model):
    """One one-time code sent to a number. ``digest`` is a keyed HMAC of the code (never the
    code in clear); ``tries`` wrong entries void it; ``used_at`` once it signed someone in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in code")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="signin_code_expires_after_creation",
                condition=models.Q(expires_at__gt=models.F("created_at")),
            ),
            models.CheckConstraint(
                name="signin_code_used_or_voided_not_both",
                condition=models.Q(used_at__isnull=True) | models.Q(voided_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"code {self.pk}"


class AccountAssessment(models.Model):
    """A self-assessment result done while signed in (the account's history)."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="+")
    assessment = models.OneToOneField(
        "assessments.Assessment", on_delete=models.CASCADE, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.account_id} {self.assessment_id}"


class AccountMessage(models.Model):
    """A mailbox thread written while signed in: shown on "my page" without the code."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="+")
    message = models.OneToOneField(
        "hotline.MailboxMessage", on_delete=models.CASCADE, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.account_id} {self.message_id}"


class AccountPerson(models.Model):
    """The person file opened for this account's bookings in one unit (one per unit)."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    person = models.OneToOneField("people.Person", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "unit"], name="account_person_one_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.unit_id}"
