"""``{% callbacks_waiting %}``: the "N call-backs waiting" banner on the hotline's call list and
mailbox queue (issue #8 item 2: a call-back is the hotline's most urgent item)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("hotline/callbacks/_banner.html", takes_context=True)
def callbacks_waiting(context: dict[str, Any]) -> dict[str, Any]:
    from xinqiao.hotline.callback_views import waiting_count

    request = context.get("request")
    user = getattr(request, "user", None)
    count = waiting_count(user) if user is not None and user.is_authenticated else 0
    return {"count": count}
