"""Writes of notifications: ``notify`` (the one entry point for every capability that tells
staff something), reading them, delivering the external copies, and the user's own settings.

``notify`` runs in the caller's transaction and writes the delivery jobs there too
(transactional outbox, ``xinqiao.ops.jobs``): a rolled-back caller sends nothing, a
committed one always sends. A delivery runs inside its job's transaction and marks the
notification sent in it, so "sent" and "job done" commit together; a worker killed in
between leaves both undone and the job runs again, with the same idempotency key.

Logs name notifications by id only: never a subject, a body or an address (R-PRIVACY).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao.audit.log import acting, change_logged
from xinqiao.notify.channels import ADAPTERS, Outgoing, enabled_channels
from xinqiao.notify.models import Channel, Notification, NotificationStatus, NotifyPreference
from xinqiao.ops.jobs import enqueue_many, handler
from xinqiao.people.idcard import InvalidNumber, normalise_phone

log = logging.getLogger(__name__)

DELIVER_JOB = "notify.deliver"
# The platform's name at the start of every external message (a proper name, not translated;
# also the keyword a DingTalk robot's security setting can require).
BRAND = "心桥"


def _site_path(url: str) -> str:
    url = (url or "").strip()
    if not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > 500:
        raise ValueError("notify(url=…) must be a path within the site, e.g. /risk/alerts/<id>/")
    return url


def absolute_url(path: str) -> str:
    """The link external messages carry: XINQIAO_PUBLIC_URL + path (the path alone if unset)."""
    return settings.XINQIAO_PUBLIC_URL.rstrip("/") + path


def notify(
    *,
    recipients: Iterable[Any],
    subject: str,
    body: str,
    url: str,
    obj: Model | None = None,
) -> list[Notification]:
    """Tell ``recipients`` something, in the current transaction.

    Each active recipient gets an in-app notification (in their inbox and unread badge at
    once) and, for each external channel of this deployment that reaches them, one more row,
    pending, with its delivery job. ``subject`` and ``body`` must name nobody concerned
    (R-PRIVACY); ``url`` is a path within the site; ``obj`` is what the notification is about.
    Deactivated accounts and repeated recipients are skipped. Returns the rows written."""
    subject = " ".join((subject or "").split())[:200]  # one line: it becomes a mail header
    if not subject:
        raise ValueError("notify() needs a subject")
    path = _site_path(url)
    # Part of the caller's transaction (no savepoint of its own): it commits or fails with it.
    with transaction.atomic(savepoint=False):
        return _write(recipients, subject, body, path, obj)


def _write(
    recipients: Iterable[Any], subject: str, body: str, path: str, obj: Model | None
) -> list[Notification]:
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    users: dict[Any, Any] = {}
    for user in recipients:
        if user.is_active and user.pk not in users:
            users[user.pk] = user
    channels = enabled_channels()
    preferences = (
        {p.user_id: p for p in NotifyPreference.objects.filter(user_id__in=list(users))}
        if channels
        else {}
    )
    batch = uuid.uuid4()
    now = timezone.now()
    common = {
        "batch": batch,
        "subject": subject,
        "body": body or "",
        "url": path,
        "object_type": object_type,
        "object_id": object_id,
        "created_at": now,
    }
    rows: list[Notification] = []
    for user in users.values():
        rows.append(
            Notification(
                recipient=user,
                channel=Channel.IN_APP,
                status=NotificationStatus.SENT,
                sent_at=now,
                **common,
            )
        )
        for channel in channels:
            if ADAPTERS[channel].address(user, preferences.get(user.pk)):
                rows.append(
                    Notification(
                        recipient=user, channel=channel, status=NotificationStatus.PENDING, **common
                    )
                )
    Notification.objects.bulk_create(rows)
    # One delivery job per external row, but one per batch on a batched channel (the group
    # chat gets one message, and two jobs never lock the same rows); one INSERT.
    first_of_batch: set[str] = set()
    deliveries = []
    for row in rows:
        if row.channel == Channel.IN_APP:
            continue
        if ADAPTERS[row.channel].batched:
            if row.channel in first_of_batch:
                continue
            first_of_batch.add(row.channel)
        deliveries.append(({"notification": str(row.id)}, f"notify:{row.id}"))
    enqueue_many(DELIVER_JOB, deliveries, max_attempts=settings.XINQIAO_NOTIFY_MAX_ATTEMPTS)
    log.debug("notification batch %s: %d rows", batch, len(rows))
    return rows


# --- reading (the recipient only) ---------------------------------------------------------------


@transaction.atomic
def mark_read(*, user: Any, notification: Notification) -> Notification:
    """The recipient has seen it (a second time changes nothing)."""
    if notification.recipient_id != user.pk or notification.channel != Channel.IN_APP:
        raise ValueError("only the recipient reads an in-app notification")
    locked = Notification.objects.select_for_update().get(pk=notification.pk)
    if locked.status == NotificationStatus.READ:
        return locked
    with acting(user):
        locked.save(update_fields=locked.set_status(NotificationStatus.READ))
    return locked


@transaction.atomic
def mark_all_read(*, user: Any) -> int:
    """Every unread in-app notification of ``user`` is read (sent → read in the transition
    table, in one UPDATE); the number marked."""
    return Notification.objects.filter(
        recipient=user, channel=Channel.IN_APP, status=NotificationStatus.SENT
    ).update(status=NotificationStatus.READ, read_at=timezone.now())


# --- the user's own settings ------------------------------------------------------------------


def clean_mobile(value: str) -> str:
    """A mainland mobile number, 11 digits (a +86 prefix, spaces and dashes are dropped)."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = normalise_phone(value)
    except InvalidNumber:
        number = ""
    if len(number) != 11 or not number.startswith("1"):
        raise ValidationError({"mobile": _("Enter an 11-digit mobile number.")})
    return number


@transaction.atomic
def set_preferences(
    *, user: Any, mobile: str, by_email: bool, by_sms: bool, by_webhook: bool
) -> NotifyPreference:
    """The user's own mobile number and the channels they want (R-PRIVACY: the number is
    encrypted at rest and only ever sent to the SMS gateway)."""
    number = clean_mobile(mobile)
    if by_sms and not number and Channel.SMS in enabled_channels():
        raise ValidationError({"mobile": _("Enter your mobile number to receive text messages.")})
    preference = NotifyPreference.objects.filter(user=user).first() or NotifyPreference(user=user)
    preference.mobile = number
    preference.by_email = by_email
    preference.by_sms = by_sms
    preference.by_webhook = by_webhook
    with acting(user):
        preference.save()
    return preference


# --- delivery (a job, in the job's transaction) ---------------------------------------------


def _outgoing(notification: Notification, *, key: str, language: str) -> Outgoing:
    """The external message: the caller's subject and body, the absolute link and the
    platform's name; nothing else is added (no names, no addresses)."""
    link = absolute_url(notification.url)
    with translation.override(language):
        footer = _("Sign in to Xinqiao to see the details and respond.")
    parts = [f"[{BRAND}] {notification.subject}"]
    if notification.body:
        parts.append(notification.body)
    parts.append(link)
    if notification.channel == Channel.EMAIL:
        return Outgoing(key=key, subject=notification.subject, text="\n\n".join([*parts, footer]))
    return Outgoing(key=key, subject=notification.subject, text="\n".join(parts))


def _set_status(rows: list[Notification], status: NotificationStatus, error: str = "") -> None:
    """Move every row (locked) to ``status``: one UPDATE, one change-log entry per row."""
    if not rows:
        return
    now = timezone.now()
    with change_logged(rows):
        for row in rows:
            fields = row.set_status(status, error=error, at=now)
        Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
            **{field: getattr(rows[0], field) for field in fields}
        )


def _give_up(rows: list[Notification], error: str) -> None:
    _set_status(rows, NotificationStatus.FAILED, error)
    log.warning("notifications %s not delivered: %s", ",".join(str(r.pk) for r in rows), error)


def _rows_to_send(notification: Notification) -> list[Notification]:
    """The notification, or for a batched channel every pending row of its batch on that
    channel (one group-chat message serves them all), locked."""
    if not ADAPTERS[notification.channel].batched:
        return [notification]
    return list(
        Notification.objects.select_for_update()
        .filter(
            batch=notification.batch,
            channel=notification.channel,
            status=NotificationStatus.PENDING,
        )
        .order_by("id")
    )


def deliver(*, notification_id: Any) -> None:
    """Send one pending external notification and mark it sent (a no-op if it is not pending
    any more). A ``DeliveryError`` propagates: the job retries it later."""
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("recipient")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.status != NotificationStatus.PENDING:
        return
    channel = notification.channel
    if channel not in enabled_channels():
        _give_up([notification], "channel switched off for this deployment")
        return
    adapter = ADAPTERS[channel]
    rows = _rows_to_send(notification)
    recipient = notification.recipient
    if adapter.batched:
        key, address, language = str(notification.batch), "group", settings.LANGUAGE_CODE
    else:
        key, language = str(notification.pk), recipient.language or settings.LANGUAGE_CODE
        preference = NotifyPreference.objects.filter(user=recipient).first()
        address = adapter.address(recipient, preference) if recipient.is_active else ""
        if not address:
            _give_up(rows, "recipient can no longer be reached on this channel")
            return
    adapter.send(address=address, message=_outgoing(notification, key=key, language=language))
    _set_status(rows, NotificationStatus.SENT)
    log.info("notifications %s sent by %s", ",".join(str(r.pk) for r in rows), channel)


def record_delivery_failure(payload: dict[str, Any], error: str) -> None:
    """The delivery job's last attempt failed: the notification (for the group chat, every
    row its message would have served) is "not delivered", with the error."""
    notification = (
        Notification.objects.select_for_update()
        .filter(pk=payload["notification"], status=NotificationStatus.PENDING)
        .first()
    )
    if notification is not None:
        _give_up(_rows_to_send(notification), error)


@handler(DELIVER_JOB, on_failure=record_delivery_failure)
def _deliver_job(payload: dict[str, Any]) -> None:
    deliver(notification_id=payload["notification"])
