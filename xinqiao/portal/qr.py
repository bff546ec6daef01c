"""The portal address of a unit and its QR code (issue #8 item 1: every unit has its portal QR
code, so the portal knows which unit a visitor came from without asking them anything).

A printed poster must carry the address people reach from their phones: ``XINQIAO_PUBLIC_URL``
when set (behind a reverse proxy), else the address of the request.
"""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from xinqiao.orgs.models import Unit


def portal_url(request: HttpRequest, unit: Unit) -> str:
    path = reverse("portal:home", args=[str(unit.pk)])
    base = settings.XINQIAO_PUBLIC_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def qr_png(link: str, *, scale: int = 10) -> bytes:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(link: str, *, scale: int = 8) -> str:
    svg: str = segno.make(link, error="m").svg_inline(scale=scale, dark="#111", light="#fff")
    return svg
