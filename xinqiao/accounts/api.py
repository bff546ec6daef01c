from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_otp import match_token, user_has_device
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from xinqiao.accounts.actions import issue_api_token
from xinqiao.accounts.twofactor import second_factor_required
from xinqiao.orgs.scope import grants


class TokenRequest(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        help_text="Current TOTP code; required for accounts with a second factor.",
    )


class TokenThrottle(AnonRateThrottle):
    """Token requests per client address (``DEFAULT_THROTTLE_RATES["token"]``)."""

    scope = "token"


@extend_schema(
    request=TokenRequest,
    responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
    auth=[],
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([TokenThrottle])
def obtain_token(request: Request) -> Response:
    """Exchange a username and password (and TOTP code, if enrolled) for an API token."""
    data = TokenRequest(data=request.data)
    data.is_valid(raise_exception=True)
    django_request = request._request
    user = authenticate(
        request=django_request,
        username=data.validated_data["username"],
        password=data.validated_data["password"],
    )
    if getattr(django_request, "axes_locked_out", False):
        return Response(
            {"detail": _("Too many failed sign-ins: this account is locked for a while.")},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    if user is None:
        return Response(
            {"non_field_errors": [_("Username or password is not correct.")]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if second_factor_required(user):
        if not user_has_device(user, confirmed=True):
            return Response(
                {
                    "otp": [
                        _(
                            "Administrators must set up a second factor in the web "
                            "interface before they can use the API."
                        )
                    ]
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        code = (data.validated_data.get("otp") or "").strip()
        if not code or match_token(user, code) is None:
            return Response(
                {"otp": [_("Enter the current code from your authenticator app.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
    _token, raw = issue_api_token(user=user, name="api")
    return Response({"token": raw})


class MeSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.DictField())


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request: Request) -> Response:
    """The signed-in account and the roles it holds."""
    user: Any = request.user
    return Response(
        {
            "id": str(user.pk),
            "username": user.username,
            "name": user.name,
            "roles": [{"role": g.role, "unit": str(g.unit_id)} for g in grants(user)],
        }
    )
