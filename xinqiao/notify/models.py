"""Notifications to staff (MISSION.md R-CRISIS, issue #5 item 4): in the app, and copies sent
through the external channels a deployment switches on (email, SMS, a group-chat robot).

One ``notify()`` call (``xinqiao.notify.actions``) writes, for each recipient, an in-app row
(delivered at once: it is in their inbox) and one row per external channel that can reach
them, pending until its delivery job has sent it. Rows of one call share a ``batch``.
Subjects and bodies come from the caller and never name the people concerned (R-PRIVACY).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinqiao.fields import EncryptedTextField


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")
    WEBHOOK = "webhook", _("Group chat")


EXTERNAL_CHANNELS: tuple[Channel, ...] = (Channel.EMAIL, Channel.SMS, Channel.WEBHOOK)


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not delivered")
    READ = "read", _("Read")


class Notification(models.Model):
    """One message to one staff member through one channel.

    In the app a notification is ``sent`` as soon as it exists (it is in the inbox) and
    becomes ``read``; an external copy is ``pending`` until delivered (``sent``) or until its
    last delivery attempt failed (``failed``, with ``last_error``)."""

    TRANSITIONS: dict[str, frozenset[str]] = {
        NotificationStatus.PENDING: frozenset({NotificationStatus.SENT, NotificationStatus.FAILED}),
        NotificationStatus.SENT: frozenset({NotificationStatus.READ}),
        NotificationStatus.FAILED: frozenset(),
        NotificationStatus.READ: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The rows written by one notify() call (one group-chat message serves all of them).
    batch = models.UUIDField(editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=8, choices=NotificationStatus.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # A path within the site (external copies carry it as an absolute URL).
    url = models.CharField(_("link"), max_length=500)
    # What the notification is about, e.g. ("risk.alert", "<uuid>").
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="notification_channel_known", condition=Q(channel__in=Channel.values)
            ),
            models.CheckConstraint(
                name="notification_status_known",
                condition=Q(status__in=NotificationStatus.values),
            ),
            # In the app a notification is delivered by being written; only there is it read.
            models.CheckConstraint(
                name="notification_in_app_is_delivered",
                condition=~Q(channel="in_app") | Q(status__in=["sent", "read"]),
            ),
            models.CheckConstraint(
                name="notification_read_only_in_app",
                condition=~Q(status="read") | Q(channel="in_app"),
            ),
            models.CheckConstraint(
                name="notification_sent_at_iff_delivered",
                condition=(Q(status__in=["sent", "read"]) & Q(sent_at__isnull=False))
                | (Q(status__in=["pending", "failed"]) & Q(sent_at__isnull=True)),
            ),
            models.CheckConstraint(
                name="notification_read_at_iff_read",
                condition=(Q(status="read") & Q(read_at__isnull=False))
                | (~Q(status="read") & Q(read_at__isnull=True)),
            ),
            models.CheckConstraint(
                name="notification_failure_has_its_error",
                condition=~Q(status="failed") | ~Q(last_error=""),
            ),
            models.CheckConstraint(
                name="notification_object_type_and_id_together",
                condition=(Q(object_type="") & Q(object_id=""))
                | (~Q(object_type="") & ~Q(object_id="")),
            ),
            models.UniqueConstraint(
                fields=["batch", "recipient", "channel"],
                name="notification_one_per_recipient_channel_batch",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "channel", "status"], name="notification_unread"),
            models.Index(fields=["recipient", "channel", "-created_at"], name="notification_inbox"),
            models.Index(fields=["object_type", "object_id"], name="notification_about"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.created_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_unread(self) -> bool:
        return self.channel == Channel.IN_APP and self.status == NotificationStatus.SENT

    def set_status(
        self, status: NotificationStatus, *, error: str = "", at: datetime | None = None
    ) -> list[str]:
        """Move to ``status`` if the transition table allows it (ValueError otherwise), with
        its timestamp (``at``, or now); returns the fields to save."""
        if status not in self.TRANSITIONS[self.status]:
            raise ValueError(f"notification {self.pk}: {self.status} → {status} not allowed")
        self.status = status
        now = at or timezone.now()
        if status == NotificationStatus.SENT:
            self.sent_at = now
            return ["status", "sent_at"]
        if status == NotificationStatus.READ:
            self.read_at = now
            return ["status", "read_at"]
        self.last_error = (error or "unknown error")[:2000]
        return ["status", "last_error"]


class NotifyPreference(models.Model):
    """How a staff member wants to be reached outside the app (set by themselves). Without a
    row: by email if the account has an address, and in the group chat."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="notify_preference",
    )
    mobile = EncryptedTextField(_("mobile number"), blank=True)
    by_email = models.BooleanField(_("by email"), default=True)
    by_sms = models.BooleanField(_("by text message"), default=True)
    by_webhook = models.BooleanField(_("in the group chat"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.user_id)

    @property
    def masked_mobile(self) -> str:
        mobile = self.mobile or ""
        return mobile[:3] + "****" + mobile[-4:] if len(mobile) == 11 else ""
