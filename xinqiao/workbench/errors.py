"""Error pages: plain, translated, never a stack trace; JSON under /api/."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


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
    return _respond(request, 500, _("Something went wrong on our side. It has been logged."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token, usually one left open past the session."""
    return _respond(
        request, 403, _("This form has expired. Go back, reload the page and try again.")
    )
