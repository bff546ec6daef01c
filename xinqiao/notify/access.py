"""Reads of notifications: each user sees only their own (404 for anyone else's)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from xinqiao.notify.models import Channel, Notification, NotificationStatus
from xinqiao.orgs.scope import get_or_404


def inbox_of(user: Any) -> QuerySet[Notification]:
    """The user's in-app notifications, newest first."""
    return Notification.objects.filter(recipient=user, channel=Channel.IN_APP).order_by(
        "-created_at", "id"
    )


def unread_count(user: Any) -> int:
    return inbox_of(user).filter(status=NotificationStatus.SENT).count()


def access_notification(user: Any, notification_id: Any) -> Notification:
    """One of the user's own in-app notifications; 404 for another's and for none."""
    return get_or_404(inbox_of(user), notification_id)
