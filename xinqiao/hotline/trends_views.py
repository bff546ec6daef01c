"""Trend charts, emerging-issue reports and the periodic hotline summary (issue #7 items 5
and 6). Every chart is also a table. Counts only, except the anonymised example notes of a
report, shown to ``TRENDS_EXAMPLES_VIEW`` and audited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.hotline import early_warning, summary_excel, trends
from xinqiao.hotline.categories import GROUPS, TAXONOMY
from xinqiao.hotline.models import EmergingIssueReport, ReportStatus
from xinqiao.hotline.summary import (
    alert_status_label,
    intervention_label,
    period_of,
    risk_label,
    summarise,
    title,
)
from xinqiao.hotline.trends_access import (
    access_report,
    may_read_examples,
    read_examples,
    reports_in_scope,
)
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, require, scope_paths

CHART_KEYS = 8  # lines drawn; the table has every key

# What each method means, for the report page (docs/early-warning.md has the detail).
METHOD_TEXT = {
    "ears_c1": gettext_lazy(
        "CDC EARS C1: the day against the mean and spread of the 7 days before it."
    ),
    "ears_c2": gettext_lazy(
        "CDC EARS C2: the day against the 7 days before, leaving out the 2 days just before it."
    ),
    "ears_c3": gettext_lazy("CDC EARS C3: the C2 excess accumulated over the last 3 days."),
    "glm": gettext_lazy(
        "Seasonal baseline: a count model with a day-of-week effect fitted on the 8 weeks "
        "before; the day is improbably high under it."
    ),
    "cusum_glm": gettext_lazy(
        "CUSUM over a day-of-week baseline: small excesses over the expected count are added "
        "up day after day until they are too much to be chance."
    ),
}


def method_text(method: str) -> str:
    text = METHOD_TEXT.get(method)
    return str(text) if text else method


def _filter_units(user: Any) -> list[Unit]:
    """Units to narrow the trends to: centres, streets, districts and cities in scope, and
    the streets of the calls and messages in scope."""
    paths = scope_paths(user, Action.TRENDS_VIEW)
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(path__startswith=p)
    kinds = [UnitKind.CITY, UnitKind.DISTRICT, UnitKind.STREET, UnitKind.HOTLINE_CENTRE]
    ids = set(Unit.objects.filter(q, kind__in=kinds, is_active=True).values_list("pk", flat=True))
    ids |= set(
        trends.calls_in_scope(user).exclude(area=None).values_list("area_id", flat=True).distinct()
    )
    ids |= set(
        trends.messages_in_scope(user)
        .exclude(area=None)
        .values_list("area_id", flat=True)
        .distinct()
    )
    return list(Unit.objects.filter(pk__in=ids).order_by("depth", "name"))


# --- trends ----------------------------------------------------------------------------------


def _choice(
    request: HttpRequest, name: str, allowed: tuple[Any, ...], errors: dict[str, str]
) -> Any:
    raw = request.GET.get(name, "")
    if raw == "":
        return allowed[0]
    for value in allowed:
        if raw == str(value):
            return value
    errors[name] = _("%(field)s: choose one of %(values)s.") % {
        "field": name,
        "values": ", ".join(str(v) for v in allowed),
    }
    return allowed[0]


@login_required
def trends_page(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.TRENDS_VIEW):
        raise Http404
    errors: dict[str, str] = {}
    days = _choice(request, "days", trends.PERIODS, errors)
    granularity = _choice(request, "granularity", trends.GRANULARITIES, errors)
    dimension = _choice(request, "dimension", trends.DIMENSIONS, errors)
    kind = _choice(request, "kind", trends.KINDS, errors)
    category = request.GET.get("category", "")
    if category and category not in GROUPS:
        errors["category"] = _("category: unknown category.")
        category = ""
    units = _filter_units(request.user)
    unit = None
    unit_raw = request.GET.get("unit", "")
    if unit_raw:
        unit = next((u for u in units if str(u.pk) == unit_raw), None)
        if unit is None:
            errors["unit"] = _("unit: choose one of the units in the list.")
    end = timezone.localdate()
    start = end - timedelta(days=days - 1)
    calls, messages = trends.within_unit(
        trends.calls_in_scope(request.user), trends.messages_in_scope(request.user), unit
    )
    if category:
        calls = calls.filter(problems__group=category).distinct()
        messages = messages.filter(category=category)
    counts = trends.count(
        calls=calls,
        messages=messages,
        start=start,
        end=end,
        dimension=dimension,
        granularity=granularity,
        kind=kind,
    )
    keys = counts.keys
    if category and dimension == "category":
        keys = [k for k in keys if k == category]
    x = [b.isoformat() if isinstance(b, date) else f"{b:02d}" for b in counts.buckets]
    chart = {
        "kind": "line" if granularity == "daily" else "bar",
        "x": x,
        "series": [{"name": _("All"), "data": [counts.bucket_total(b) for b in counts.buckets]}]
        + [{"name": counts.labels[k], "data": counts.row(k)} for k in keys[:CHART_KEYS]],
    }
    rows = [
        {
            "bucket": label,
            "total": counts.bucket_total(b),
            "cells": [counts.cells.get((b, k), 0) for k in keys],
        }
        for label, b in zip(x, counts.buckets, strict=True)
    ]
    log_access(request, object_type="hotline.trends", kind=AccessKind.LIST)
    context = {
        "errors": errors,
        "days": days,
        "granularity": granularity,
        "dimension": dimension,
        "kind": kind,
        "category": category,
        "unit": unit,
        "units": units,
        "periods": trends.PERIODS,
        "categories": [(c.code, c.label) for c in TAXONOMY],
        "start": start,
        "end": end,
        "chart": chart,
        "columns": [counts.labels[k] for k in keys],
        "column_totals": [counts.total(k) for k in keys],
        "grand_total": sum(counts.bucket_total(b) for b in counts.buckets),
        "rows": rows,
    }
    return render(request, "hotline/trends/trends.html", context, status=400 if errors else 200)


def trends_url(*, unit: Unit | None = None, category: str = "", days: int = 90) -> str:
    params: dict[str, Any] = {"days": days, "dimension": "category"}
    if unit is not None:
        params["unit"] = str(unit.pk)
    if category:
        params["category"] = category
    return reverse("hotline:trends") + "?" + urlencode(params)


# --- reports ---------------------------------------------------------------------------------


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.TRENDS_VIEW):
        raise Http404
    status = request.GET.get("status", "open")
    reports = reports_in_scope(request.user)
    if status == "open":
        reports = reports.filter(status__in=early_warning.OPEN_STATUSES)
    elif status in ReportStatus.values:
        reports = reports.filter(status=status)
    else:
        status = "all"
    rows = [
        {"report": r, "category": early_warning.category_label(r.category)}
        for r in reports.order_by("-day", "-created_at")[:300]
    ]
    log_access(request, object_type="hotline.emergingissuereport", kind=AccessKind.LIST)
    return render(
        request,
        "hotline/trends/reports.html",
        {"rows": rows, "status": status, "statuses": ReportStatus.choices},
    )


@login_required
def report_detail(request: HttpRequest, report_id: Any) -> HttpResponse:
    report = access_report(request.user, report_id)
    series = [(str(d), int(n)) for d, n in report.series]
    recent = series[-28:]
    chart = {
        "kind": "line",
        "x": [d for d, _n in series],
        "series": [{"name": _("Calls and messages"), "data": [n for _d, n in series]}],
    }
    show_examples = may_read_examples(request.user)
    examples = read_examples(request, report) if show_examples else []
    can_handle = can(request.user, Action.ISSUE_REPORT_HANDLE, report.unit)
    transitions = [
        (value, label)
        for value, label in ReportStatus.choices
        if value in EmergingIssueReport.TRANSITIONS.get(report.status, frozenset())
    ]
    context = {
        "report": report,
        "category": early_warning.category_label(report.category),
        "method_text": method_text(report.method),
        "chart": chart,
        "recent": recent,
        "series_total": sum(n for _d, n in series),
        "trends_link": trends_url(unit=report.source_unit, category=report.category),
        "show_examples": show_examples,
        "examples": examples,
        "can_handle": can_handle and bool(transitions),
        "transitions": transitions,
        "min_count": early_warning.MIN_COUNT,
    }
    return render(request, "hotline/trends/report.html", context)


@login_required
@require_POST
def report_handle(request: HttpRequest, report_id: Any) -> HttpResponse:
    report = access_report(request.user, report_id)
    require(request.user, Action.ISSUE_REPORT_HANDLE, report.unit)
    url = reverse("hotline:report", kwargs={"report_id": report.pk})
    try:
        early_warning.handle(
            report=report,
            user=request.user,
            status=request.POST.get("status", ""),
            response=request.POST.get("response", ""),
        )
    except ValueError as exc:
        context = {"report": report, "message": str(exc), "back": url}
        return render(request, "hotline/trends/handle_error.html", context, status=400)
    return redirect(url)


# --- summary ---------------------------------------------------------------------------------


def _summary_args(
    request: HttpRequest,
) -> tuple[list[Unit], Unit | None, str, date, dict[str, str]]:
    errors: dict[str, str] = {}
    paths = scope_paths(request.user, Action.TRENDS_VIEW)
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(path__startswith=p)
    centres = list(
        Unit.objects.filter(q, kind=UnitKind.HOTLINE_CENTRE, is_active=True).order_by("name")
    )
    centre = centres[0] if centres else None
    raw = request.GET.get("centre", "")
    if raw:
        centre = next((c for c in centres if str(c.pk) == raw), None)
        if centre is None:
            errors["centre"] = _("centre: choose one of the centres in the list.")
    kind = request.GET.get("period", "week")
    if kind not in ("week", "month"):
        errors["period"] = _("period: choose week or month.")
        kind = "week"
    day = timezone.localdate()
    raw_day = request.GET.get("day", "")
    if raw_day:
        parsed = parse_date(raw_day) if len(raw_day) <= 10 else None
        if parsed is None:
            errors["day"] = _("day: enter a date like 2026-03-02.")
        else:
            day = parsed
    return centres, centre, kind, day, errors


@login_required
def summary_page(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.TRENDS_VIEW):
        raise Http404
    centres, centre, kind, day, errors = _summary_args(request)
    context: dict[str, Any] = {
        "centres": centres,
        "centre": centre,
        "period": kind,
        "day": day,
        "errors": errors,
    }
    if centre is not None and not errors:
        result = summarise(centre, kind, day)
        start, end = period_of(kind, day)
        context.update(
            {
                "s": result,
                "title": title(result),
                "hour_chart": {
                    "kind": "bar",
                    "x": [f"{h.hour:02d}" for h in result.hours],
                    "series": [{"name": _("Calls"), "data": [h.calls for h in result.hours]}],
                },
                "risk_rows": [
                    {
                        "label": risk_label(r.level),
                        "r": r,
                        "interventions": [
                            (intervention_label(k), v) for k, v in sorted(r.interventions.items())
                        ],
                        "alert_status": [
                            (alert_status_label(k), v) for k, v in sorted(r.alert_status.items())
                        ],
                    }
                    for r in result.risk
                ],
                "hour_total": sum(h.calls for h in result.hours),
                "previous": (start - timedelta(days=1)).isoformat(),
                "next": (end + timedelta(days=1)).isoformat(),
                "xlsx": reverse("hotline:summary_xlsx")
                + "?"
                + urlencode({"centre": str(centre.pk), "period": kind, "day": day.isoformat()}),
            }
        )
        log_access(request, centre, object_type="hotline.summary", kind=AccessKind.VIEW)
    return render(request, "hotline/trends/summary.html", context, status=400 if errors else 200)


@login_required
def summary_xlsx(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.TRENDS_VIEW):
        raise Http404
    _centres, centre, kind, day, errors = _summary_args(request)
    if errors or centre is None:
        message = " ".join(errors.values()) or _("There is no hotline centre in your units.")
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    result = summarise(centre, kind, day)
    log_access(request, centre, kind=AccessKind.EXPORT, object_type="hotline.summary")
    response = HttpResponse(
        summary_excel.workbook(result),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"hotline-{kind}-{result.start.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urlpatterns: list[URLPattern] = [
    path("trends/", trends_page, name="trends"),
    path("reports/", report_list, name="reports"),
    path("reports/<uuid:report_id>/", report_detail, name="report"),
    path("reports/<uuid:report_id>/handle/", report_handle, name="report_handle"),
    path("summary/", summary_page, name="summary"),
    path("summary.xlsx", summary_xlsx, name="summary_xlsx"),
]
