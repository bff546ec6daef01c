from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from xinqiao.accounts.twofactor import second_factor_required
from xinqiao.orgs.scope import can
from xinqiao.workbench.nav import NAV


def navigation(request: HttpRequest) -> dict[str, Any]:
    hotline = {"hotline_number": settings.XINQIAO_HOTLINE_NUMBER}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], **hotline}
    if not getattr(user, "is_verified", lambda: False)() and second_factor_required(user):
        return {"nav_items": [], **hotline}  # nothing to navigate to until the second factor
    items = []
    for item in NAV:
        if item.action is None or can(user, item.action):
            url = reverse(item.url_name)
            current = request.path == url or (url != "/" and request.path.startswith(url))
            items.append({"url": url, "label": item.label, "current": current})
    return {"nav_items": items, **hotline}
