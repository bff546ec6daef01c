"""QR codes (segno) for self-assessment links (their printable sheets: workbench/pdf.py).

A printed sheet must carry the address people reach from their phones: ``XINQIAO_PUBLIC_URL``
when set (behind a reverse proxy), else the address of the request.
"""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from xinqiao.assessments.models import Invitation


def public_link(request: HttpRequest, invitation: Invitation) -> str:
    path = reverse("selfservice:start", kwargs={"token": invitation.token})
    base = settings.XINQIAO_PUBLIC_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def qr_svg(link: str, *, scale: int = 4) -> str:
    svg: str = segno.make(link, error="m").svg_inline(scale=scale, dark="#111", light="#fff")
    return svg


def qr_png(link: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg_file(link: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", scale=scale, border=4, xmldecl=True)
    return out.getvalue()
