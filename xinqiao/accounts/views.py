from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from xinqiao.accounts import actions
from xinqiao.accounts.forms import LoginForm, OtpForm, PasswordChangeForm, TokenForm
from xinqiao.accounts.models import ApiToken, User
from xinqiao.accounts.twofactor import base32_secret, pending_device, qr_svg
from xinqiao.audit.log import client_ip
from xinqiao.lib.ratelimit import hit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.workbench.forms import submit


class XinqiaoLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A per-address rate limit in front of the per-account lockout (django-axes).
        allowed = hit(
            cache,
            scope="login",
            subject=client_ip(request) or "unknown",
            limit=settings.XINQIAO_LOGIN_RATE_PER_MINUTE,
            window_seconds=60,
        )
        if not allowed:
            return render(
                request,
                "accounts/rate_limited.html",
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if user.language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
        return response


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """django-axes calls this when an account is locked."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
def twofa_setup(request: HttpRequest) -> HttpResponse:
    if user_has_device(request.user, confirmed=True) and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect("accounts:2fa_verify")
    device = pending_device(request.user)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("Second factor set up. It will be asked at each sign-in."))
            return redirect("workbench:home")
        form.add_error("token", _("That code is not correct. Check the time on your phone."))
    return render(
        request,
        "accounts/2fa_setup.html",
        {"form": form, "qr": qr_svg(device), "secret": base32_secret(device)},
    )


@login_required
def twofa_verify(request: HttpRequest) -> HttpResponse:
    if not user_has_device(request.user, confirmed=True):
        return redirect("accounts:2fa_setup")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].strip())
        if device is not None:
            otp_login(request, device)
            return redirect(request.GET.get("next") or "workbench:home")
        form.add_error("token", _("That code is not correct. Check the time on your phone."))
    return render(request, "accounts/2fa_verify.html", {"form": form})


@login_required
def account(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if (
        submit(
            request,
            form,
            lambda data: actions.change_password(
                user=cast(User, request.user),
                old_password=data["old_password"],
                new_password=data["new_password"],
            ),
            _("Password changed."),
        )
        is not None
    ):
        update_session_auth_hash(request, cast(User, request.user))
        return redirect("accounts:account")
    return render(
        request,
        "accounts/account.html",
        {"form": form, "has_2fa": user_has_device(request.user, confirmed=True)},
    )


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.API_TOKEN_OWN):
        raise Http404
    form = TokenForm(request.POST or None)
    issued = submit(
        request,
        form,
        lambda data: actions.issue_api_token(
            user=cast(User, request.user), name=data["name"], days=data["days"]
        ),
        _("Token created."),
    )
    new_token = issued[1] if issued is not None else None
    if issued is not None:
        form = TokenForm()
    rows = ApiToken.objects.filter(user=cast(User, request.user))
    return render(
        request, "accounts/tokens.html", {"form": form, "tokens": rows, "new_token": new_token}
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: Any) -> HttpResponse:
    token = ApiToken.objects.filter(user=cast(User, request.user), pk=token_id).first()
    if token is None:
        raise Http404
    actions.revoke_api_token(user=cast(User, request.user), token=token)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:tokens")


__all__ = ["XinqiaoLoginView", "locked_out", "login"]
