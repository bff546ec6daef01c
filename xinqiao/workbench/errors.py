"""Error pages: plain, translated, never a stack trace; JSON under /api/."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

# Seconds a client is asked to wait before it tries again while the database is unreachable
# (a PostgreSQL restart or fail-over takes a few seconds; phones retry with the same
# idempotency key, so nothing is sent twice).
UNAVAILABLE_RETRY_AFTER = 5


def _respond(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 400, _("The request could not be understood."))


def forbidden(request: HttpRequest, exception: Any = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else ""
    return _respond(request, 403, message or _("You do not have permission to do this."))


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 404, _("This page does not exist, or is not yours to see."))


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls the handler inside its ``except`` block, so the exception is at hand.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request)
    return _respond(request, 500, _("Something went wrong on our side. It has been logged."))


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 while the database cannot be reached (restart, fail-over, network): the write in
    flight rolled back with its transaction, and the client may send the same request again
    (public forms carry an idempotency key, so a retry never saves twice).
    Rendered without the request's context (no user, no session, no menu): each of those
    would ask the database that is not there. Nothing of the error is shown."""
    log.warning("database unavailable: answered 503 for a %s request", request.method)
    message = _("The service is briefly unavailable. Please try again in a moment.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        context = {"message": message, "hotline_number": settings.XINQIAO_HOTLINE_NUMBER}
        body = render_to_string("unavailable.html", context)
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token, usually one left open past the session."""
    return _respond(
        request, 403, _("This form has expired. Go back, reload the page and try again.")
    )
