"""The mailbox objects and rules of the scope matrix (tests/test_scope_matrix.py)."""

from __future__ import annotations

import uuid
from typing import Any

from xinqiao.hotline.models import MailboxMessage
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    """URL parameter name → a mailbox message written to ``unit``."""
    tag = uuid.uuid4().hex
    message = MailboxMessage.objects.create(
        number=f"M-{tag[:8].upper()}",
        code_digest=f"matrix-{tag}",
        unit=unit,
        body="矩阵测试来信",
    )
    return {"message_id": message}


def skip_inside(route: str, user: Any) -> bool:
    """The public pages (/mailbox/, their own credential: test_mailbox), and messages for
    those who do not answer them (need-to-know: administrators see no messages)."""
    if route.startswith("/mailbox/"):
        return True
    return route.startswith("/hotline/mailbox/") and not can(user, Action.MAILBOX_ANSWER)
