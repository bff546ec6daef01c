from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from xinqiao.accounts.twofactor import second_factor_required

_EXEMPT_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/i18n/", "/healthz")


class SecondFactorMiddleware:
    """A signed-in session that still owes a second factor can reach nothing but the 2FA
    pages. (API tokens are issued only after the second factor, see ``api.obtain_token``.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not getattr(user, "is_verified", lambda: False)()
            and not request.path.startswith(_EXEMPT_PREFIXES)
            and second_factor_required(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": _("Complete the second factor sign-in first.")}, status=403
                )
            from django_otp import user_has_device

            target = "accounts:2fa_verify" if user_has_device(user) else "accounts:2fa_setup"
            return redirect(target)
        return self.get_response(request)
