"""TOTP second factor (django-otp): who must use it and the enrolment QR code."""

from __future__ import annotations

from typing import Any

import segno
from django.conf import settings
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinqiao.orgs.scope import is_administrator


def second_factor_required(user: Any) -> bool:
    """Administrators must use TOTP; anyone who enrolled a device must use it too. (Cached on
    the user object for the request: the middleware and the navigation both ask.)"""
    cached: bool | None = getattr(user, "_xinqiao_2fa_required", None)
    if cached is None:
        cached = bool(
            user_has_device(user, confirmed=True)
            or (settings.XINQIAO_ADMIN_2FA_REQUIRED and is_administrator(user))
        )
        user._xinqiao_2fa_required = cached
    return cached


def pending_device(user: Any) -> TOTPDevice:
    """The unconfirmed device being enrolled, created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG QR code (scanned by any authenticator app)."""
    qr = segno.make(device.config_url, error="m")
    svg: str = qr.svg_inline(scale=4, dark="#111", light="#fff")
    return svg


def base32_secret(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
