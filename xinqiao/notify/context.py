"""The unread badge in every page's header (``notify_unread``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpRequest

from xinqiao.accounts.twofactor import second_factor_required
from xinqiao.notify.access import unread_count


def unread(request: HttpRequest) -> dict[str, Callable[[], int] | None]:
    """``notify_unread``: the signed-in user's unread count, counted only if a template shows
    it (templates call it; it counts once per request). None for visitors and for a session
    that still owes its second factor (it can reach no inbox yet)."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notify_unread": None}
    if not getattr(user, "is_verified", lambda: False)() and second_factor_required(user):
        return {"notify_unread": None}

    @cache
    def count() -> int:
        return unread_count(user)

    return {"notify_unread": count}
