from __future__ import annotations

from collections.abc import Callable

from auditlog.cid import set_cid
from auditlog.context import set_extra_data
from django.http import HttpRequest, HttpResponse

from xinqiao.audit.log import client_ip


class AuditContextMiddleware:
    """django-auditlog's middleware, but with our proxy-aware client address: a client cannot
    put any address it likes into the change log by sending X-Forwarded-For."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        set_cid(request)
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with set_extra_data(context_data={"actor": actor, "remote_addr": client_ip(request)}):
            return self.get_response(request)
