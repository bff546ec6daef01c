"""Public pages of the worry mailbox and online consultation (no login), mounted at /mailbox/."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "mailbox"

urlpatterns: list[URLPattern] = []
