"""Anonymous portal pages served from the cache (issue #10 item 6: most of the platform's
traffic is the public reading the portal; the same page for every visitor need not be rendered
and queried for each).

A page is kept only when it is the same for every anonymous visitor:

- a view that only renders (``@portal_view(…, shared=True)``: the home page, the lessons and
  the questionnaires offered — not an article, whose views are counted one by one, nor the
  booking slots, which change as people book);
- a GET from a visitor who carries no cookie but the CSRF one, the language and the senior-mode
  switch (no session: no signed-in portal account, no questionnaire in progress, no message
  waiting to be shown);
- a 200 whose page holds no form of its own (no idempotency key: the help and booking forms
  are rendered afresh each time, as their keys must be new);
- by unit page address (query string included), language and senior mode, for
  ``XINQIAO_PORTAL_PAGE_CACHE_SECONDS``.

The language switch and senior-mode forms of every page carry a CSRF token, which is the
visitor's own: the stored page has a placeholder in its place, filled with the visitor's
token (and the CSRF cookie set) when served. Visits are counted for cached pages too.
The browser is still told never to cache (a shared phone must not show the page back).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

PLACEHOLDER = "__xq_csrf_token__"
_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def cacheable(request: HttpRequest, *, switch_cookies: set[str]) -> bool:
    """Whether this request may be answered from, and its page kept in, the cache: a GET that
    carries no cookie but the CSRF one, the language's and the portal's ``switch_cookies``."""
    allowed = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, *switch_cookies}
    return (
        settings.XINQIAO_PORTAL_PAGE_CACHE_SECONDS > 0
        and request.method == "GET"
        and set(request.COOKIES) <= allowed
    )


def _key(request: HttpRequest, variant: str) -> str:
    address = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return f"portal-page:{get_language()}:{variant}:{address}"


def cached(request: HttpRequest, *, variant: str) -> tuple[HttpResponse, str] | None:
    """The stored page for this request with the visitor's CSRF token, and its unit's id."""
    entry: dict[str, Any] | None = cache.get(_key(request, variant))
    if entry is None:
        return None
    body = entry["body"].replace(PLACEHOLDER, get_token(request))
    return HttpResponse(body, content_type=entry["content_type"]), entry["unit"]


def keep(request: HttpRequest, response: HttpResponse, *, unit_id: str, variant: str) -> None:
    """Store a freshly rendered page if every anonymous visitor would get the same one."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return
    body = response.content.decode(response.charset)
    if 'name="idempotency_key"' in body:
        return
    entry = {
        "body": _TOKEN.sub(rf"\g<1>{PLACEHOLDER}\g<2>", body),
        "content_type": response["Content-Type"],
        "unit": unit_id,
    }
    cache.set(_key(request, variant), entry, settings.XINQIAO_PORTAL_PAGE_CACHE_SECONDS)
