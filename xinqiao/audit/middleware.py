from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from auditlog.cid import set_cid
from auditlog.context import set_extra_data
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse

from xinqiao.audit.log import client_ip

log = logging.getLogger(__name__)

# The request being served, for code that must log an access but is not handed the request
# (``xinqiao.people.access.access_person`` under a break-glass grant).
current_request: ContextVar[HttpRequest | None] = ContextVar("xinqiao_request", default=None)

# Route parameters that are neither object ids nor secrets (a table's code, a format); any
# other non-id parameter (a link token, a mailbox reference code, which shares the name
# "code" with instrument codes) may be a credential and is not written to the log.
_PLAIN_PARAMS = frozenset({"fmt", "table"})


class AuditContextMiddleware:
    """django-auditlog's middleware, but with our proxy-aware client address: a client cannot
    put any address it likes into the change log by sending X-Forwarded-For.

    It also writes every refusal of a signed-in user to the access log (issue #10 item 8): a
    403 or 404 on a page or API route that exists (the answer of ``require`` and of the
    ``access_*`` helpers outside scope, web and API alike; an address that matches no route
    is not a refusal). One INSERT, only when something is refused."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        set_cid(request)
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        token = current_request.set(request)
        try:
            with set_extra_data(context_data={"actor": actor, "remote_addr": client_ip(request)}):
                response = self.get_response(request)
        finally:
            current_request.reset(token)
        if response.status_code in (403, 404):
            log_refusal(request, response.status_code)
        return response


def log_refusal(request: HttpRequest, status: int) -> None:
    """An access-log entry "refused": the route's name, the object id from the URL and the
    status, never anything else of the request (no query, no body, no token)."""
    # Read after the view ran: an API token authenticates inside the view, on this request.
    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    if user is None or not user.is_authenticated or match is None:
        return
    kwargs = {k: str(v) for k, v in match.kwargs.items()}
    ids = [v for k, v in kwargs.items() if k.endswith("_id")]
    path = request.path
    for name, value in kwargs.items():
        if not name.endswith("_id") and name not in _PLAIN_PARAMS and value:
            path = path.replace(value, f"<{name}>")
    from xinqiao.audit.models import AccessKind, AccessLog
    from xinqiao.orgs.scope import grants

    # Scoped to the refused user's own unit, so the auditor over that user reads it.
    own = grants(user)
    try:
        with transaction.atomic():
            AccessLog.objects.create(
                user=user,
                kind=AccessKind.REFUSED,
                object_type=(match.view_name or "")[:64],
                object_id=(ids[-1] if ids else "")[:64],
                unit_path=own[0].path if own else "",
                method=request.method or "",
                path=path[:500],
                ip=client_ip(request),
                reason=str(status),
            )
    except DatabaseError:
        log.warning("refusal of user %s on %s not logged", user.pk, match.view_name)
