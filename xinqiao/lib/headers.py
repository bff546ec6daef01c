"""Security headers Django does not set itself: Content-Security-Policy and Permissions-Policy.

Django 5.2 sends X-Frame-Options, X-Content-Type-Options, Referrer-Policy,
Cross-Origin-Opener-Policy and (in production) HSTS from its own settings
(``xinqiao/settings.py``); this middleware adds the two it has no setting for. The policies
themselves are settings (``XINQIAO_CONTENT_SECURITY_POLICY``, ``XINQIAO_PERMISSIONS_POLICY``)
so the operator can read them in one place; a view that needs another policy sets its own
header, which is left alone.

CSP: W3C Content Security Policy Level 3 (https://www.w3.org/TR/CSP3/); OWASP Secure
Headers Project. Permissions-Policy: W3C Permissions Policy (https://www.w3.org/TR/permissions-policy/).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def serialise_policy(directives: dict[str, list[str]]) -> str:
    """``{"script-src": ["'self'"]}`` → ``"script-src 'self'"`` (directives in the given order)."""
    return "; ".join(" ".join([name, *values]) for name, values in directives.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.csp = serialise_policy(settings.XINQIAO_CONTENT_SECURITY_POLICY)
        self.permissions = settings.XINQIAO_PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = self.csp
        if "Permissions-Policy" not in response.headers:
            response.headers["Permissions-Policy"] = self.permissions
        return response
