"""Staff pages of the portal (issue #8 item 1), mounted at /portal-admin/: a unit's portal QR
code (PNG), its printable A4 poster (PDF) and its visit counts.

Login and ``Action.UNIT_VIEW`` on the unit (``access_unit``: 404 outside scope). A deactivated
unit's code still downloads (posters hang on walls), and the page says it now opens the city
portal.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.safestring import mark_safe

from xinqiao.assessments.access import portal_results
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import access_unit, can
from xinqiao.portal import qr
from xinqiao.portal.models import PortalPage, PortalVisit
from xinqiao.portal.page import portal_for
from xinqiao.workbench.pdf import pdf_response

app_name = "portal_staff"

# The visit table covers the last 30 days (issue #8 item 1 "statistics").
STATS_DAYS = 30


@login_required
def unit_portal(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_unit(request.user, unit_id)
    since = timezone.localdate() - timedelta(days=STATS_DAYS - 1)
    totals = dict(
        PortalVisit.objects.filter(unit=unit, day__gte=since)
        .values_list("page")
        .annotate(total=Sum("count"))
        .values_list("page", "total")
    )
    rows = [{"label": label, "count": totals.get(value, 0)} for value, label in PortalPage.choices]
    link = qr.portal_url(request, unit)
    show_results = can(request.user, Action.CAMPAIGN_VIEW, unit)
    return render(
        request,
        "portal/staff/unit.html",
        {
            "unit": unit,
            "link": link,
            # segno's own SVG markup of the address (no user text in it).
            "qr_svg": mark_safe(qr.qr_svg(link, scale=5)),  # noqa: S308
            "rows": rows,
            "total": sum(r["count"] for r in rows),
            "days": STATS_DAYS,
            "portal": portal_for(unit),
            # What the portal's consent screen promises: anonymous answers counted for the
            # unit's statistics (R-ASSESS), for those who follow campaigns' aggregates.
            "show_results": show_results,
            "results": portal_results(unit, since=since) if show_results else [],
            "threshold": settings.XINQIAO_SMALL_CELL_THRESHOLD,
        },
    )


@login_required
def qr_png(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_unit(request.user, unit_id)
    response = HttpResponse(qr.qr_png(qr.portal_url(request, unit)), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="portal-{unit.pk}.png"'
    return response


@login_required
def poster_pdf(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_unit(request.user, unit_id)
    link = qr.portal_url(request, unit)
    portal = portal_for(unit)
    return pdf_response(
        request,
        "portal/staff/poster.html",
        {
            "unit": unit,
            "link": link,
            "qr_svg": mark_safe(qr.qr_svg(link, scale=10)),  # noqa: S308
            "hotline_number": settings.XINQIAO_HOTLINE_NUMBER,
            "service_phone": portal.service_phone,
        },
        f"portal-poster-{unit.pk}.pdf",
    )


urlpatterns: list[URLPattern] = [
    path("units/<uuid:unit_id>/", unit_portal, name="unit"),
    path("units/<uuid:unit_id>/qr.png", qr_png, name="qr"),
    path("units/<uuid:unit_id>/poster.pdf", poster_pdf, name="poster"),
]
