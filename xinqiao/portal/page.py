"""What every portal page shares: which unit's portal it is, the phones, the senior mode, the
rate limit and the visit count (issue #8).

The unit comes from the URL (``/p/<unit id or code>/…``: the QR code of the unit), so the
portal knows where a visitor came from without asking anything about them. A deactivated
unit's QR code falls back to the city portal, which says so; an unknown one is a 404 page in
the portal's look with the 24-hour line on it (never a dead end).

Use ``@portal_view(PortalPage.X)`` on a view taking ``ref`` and render with ``render_portal``.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from xinqiao.audit.log import client_ip
from xinqiao.lib.ratelimit import hit
from xinqiao.orgs.models import Unit
from xinqiao.portal import pagecache
from xinqiao.portal.models import PortalPage, PortalVisit

log = logging.getLogger(__name__)

# The senior-mode switch (larger text) lives in this cookie; nothing else is remembered.
LARGE_TEXT_COOKIE = "xq_large"


@dataclass
class Portal:
    unit: Unit
    # The unit's own service phone, or the nearest unit above it with one ("" if none).
    service_phone: str
    service_phone_unit: Unit | None
    hotline_number: str
    # The deactivated unit whose QR code brought the visitor here (the city portal says so).
    fell_back: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return str(self.unit.pk)


def city_unit() -> Unit | None:
    """The city at the root of the tree (the first one, if a deployment has several)."""
    return Unit.objects.filter(parent__isnull=True, is_active=True).order_by("created_at").first()


def find_unit(ref: str) -> Unit | None:
    """A unit by its id or its administrative code (active or not)."""
    ref = (ref or "").strip()
    if not ref:
        return None
    try:
        return Unit.objects.filter(pk=uuid.UUID(ref)).first()
    except ValueError:
        return Unit.objects.filter(code=ref).first()


def portal_for(unit: Unit, *, fell_back: bool = False) -> Portal:
    phone, phone_unit = unit.service_phone, unit if unit.service_phone else None
    if not phone:
        above = (
            unit.ancestors().exclude(pk=unit.pk).exclude(service_phone="").order_by("-depth")
        ).first()
        if above is not None:
            phone, phone_unit = above.service_phone, above
    return Portal(
        unit=unit,
        service_phone=phone,
        service_phone_unit=phone_unit,
        hotline_number=settings.XINQIAO_HOTLINE_NUMBER,
        fell_back=fell_back,
    )


class VisitCounter:
    """Visits counted in this web process and written together (one UPDATE per unit, page
    and day) every ``XINQIAO_PORTAL_VISIT_FLUSH_SECONDS``, instead of a write for each view
    of a public page. A process killed with SIGKILL loses at most that many seconds of its
    counts (they are statistics, not records); one that stops normally writes them first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str, date]] = Counter()
        self._written_at = time.monotonic()
        atexit.register(self._flush_at_exit)

    def add(self, unit_id: str, page: str) -> None:
        with self._lock:
            self._counts[(unit_id, page, timezone.localdate())] += 1
            due = time.monotonic() - self._written_at >= settings.XINQIAO_PORTAL_VISIT_FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, Counter()
            self._written_at = time.monotonic()
        for (unit_id, page, day), n in sorted(counts.items()):
            _write_visits(unit_id, page, day, n)

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception:  # the database may already be gone; the counts are only statistics
            log.warning("portal visits: the last counts could not be written at exit")


def _write_visits(unit_id: str, page: str, day: date, n: int) -> None:
    """Add ``n`` to the day's count of ``page`` for the unit (no trace of the visitors)."""
    rows = PortalVisit.objects.filter(unit_id=unit_id, day=day, page=page)
    if rows.update(count=F("count") + n):
        return
    try:
        with transaction.atomic():
            PortalVisit.objects.create(unit_id=unit_id, day=day, page=page, count=n)
    except IntegrityError:  # created by another process a moment ago
        rows.update(count=F("count") + n)


VISITS = VisitCounter()


def count_visit(unit_id: str, page: str) -> None:
    """Count one view of ``page`` on the unit's portal (written within the flush interval)."""
    VISITS.add(str(unit_id), page)


def large_text(request: HttpRequest) -> bool:
    return request.COOKIES.get(LARGE_TEXT_COOKIE) == "1"


def render_portal(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Render a portal page with what the base template needs. Works for pages outside
    ``portal_view`` too (then only the 24-hour line shows)."""
    context = dict(context or {})
    portal = getattr(request, "portal", None)
    context.setdefault("portal", portal)
    context.setdefault("hotline_number", settings.XINQIAO_HOTLINE_NUMBER)
    context["large_text"] = large_text(request)
    return render(request, template, context, status=status)


def _limited(request: HttpRequest) -> HttpResponse | None:
    if hit(
        cache,
        scope="portal",
        subject=client_ip(request) or "unknown",
        limit=settings.XINQIAO_SELF_SERVICE_RATE_PER_MINUTE,
        window_seconds=60,
    ):
        return None
    response = render_portal(request, "portal/message.html", {"kind": "rate_limited"}, status=429)
    response["Retry-After"] = "60"
    return response


def portal_view(
    page: str, *, shared: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Resolve ``ref`` to the unit's portal (``request.portal``), rate-limit, count the visit
    (GET only) and never let the browser cache the page (a shared phone must not show it
    back). ``shared``: the view only renders a page that is the same for every anonymous
    visitor (it records nothing), so it may be served from the server's cache
    (``xinqiao/portal/pagecache.py``)."""
    if page not in PortalPage.values:
        raise ValueError(page)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, ref: str, *args: Any, **kwargs: Any) -> HttpResponse:
            limited = _limited(request)
            if limited is not None:
                return limited
            variant = "large" if large_text(request) else "normal"
            use_cache = shared and pagecache.cacheable(request, switch_cookies={LARGE_TEXT_COOKIE})
            if use_cache and (stored := pagecache.cached(request, variant=variant)) is not None:
                response, unit_id = stored
                count_visit(unit_id, page)
                response.setdefault("Referrer-Policy", "same-origin")
                return response
            unit = find_unit(ref)
            if unit is None:
                return render_portal(request, "portal/message.html", {"kind": "unknown"}, 404)
            if not unit.is_active:
                city = city_unit()
                if city is None or city.pk == unit.pk:
                    return render_portal(request, "portal/message.html", {"kind": "unknown"}, 404)
                # The QR code of a deactivated unit: the city portal, saying so (issue #8).
                return redirect(reverse("portal:home", args=[city.pk]) + "?moved=1")
            request.portal = portal_for(unit)  # type: ignore[attr-defined]
            if request.GET.get("moved") == "1":
                request.portal.fell_back = True  # type: ignore[attr-defined]
            if request.method == "GET":
                count_visit(str(unit.pk), page)
            response = view(request, ref, *args, **kwargs)
            if use_cache:
                pagecache.keep(request, response, unit_id=str(unit.pk), variant=variant)
            response.setdefault("Referrer-Policy", "same-origin")
            return response

        return never_cache(wrapped)

    return decorate
