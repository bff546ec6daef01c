"""Who reads mailbox messages: one place, 404 outside scope (DESIGN.md, R-PRIVACY).

Those who may answer (MAILBOX_ANSWER) in the message's unit or above see the queue and open a
message; nobody else does, not even administrators of the unit (need-to-know). Every opening
of a message, and every read of the writer's contact, goes to the access log (ids only).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.hotline.models import MailboxMessage
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import get_or_404, require_confidentiality_agreement, scoped


def messages_in_scope(user: Any) -> QuerySet[MailboxMessage]:
    return scoped(
        MailboxMessage.objects.select_related("unit", "assigned_to", "area", "alert"),
        user,
        Action.MAILBOX_ANSWER,
    )


def access_message(user: Any, message_id: Any) -> MailboxMessage:
    """The message, if ``user`` may answer in its unit; 404 otherwise (missing or not theirs)."""
    message = get_or_404(messages_in_scope(user), message_id)
    require_confidentiality_agreement(user)
    return message


def log_read(request: HttpRequest, message: MailboxMessage) -> None:
    log_access(
        request,
        message,
        kind=AccessKind.VIEW,
        object_type="hotline.mailboxmessage",
        reason="mailbox message",
    )


def log_contact_read(request: HttpRequest, message: MailboxMessage) -> None:
    log_access(
        request,
        message,
        kind=AccessKind.VIEW,
        object_type="hotline.mailboxmessage",
        reason="mailbox contact",
    )


def log_queue(request: HttpRequest) -> None:
    log_access(request, object_type="hotline.mailboxmessage", kind=AccessKind.LIST)
