"""Dashboards per unit, rolled up the tree (issue #9 item 1): the period chooser, every table
as a chart and as a table, each table as CSV. Read only from the aggregate tables."""

from __future__ import annotations

import csv
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, scope_paths
from xinqiao.reports import indicators, periods
from xinqiao.reports.access import access_dashboard, home_unit, must_suppress
from xinqiao.reports.tables import Cell, Dashboard, Table

PERIOD_LABELS = {
    "this_week": gettext_lazy("This week"),
    "last_week": gettext_lazy("Last week"),
    "this_month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "this_quarter": gettext_lazy("This quarter"),
    "this_year": gettext_lazy("This year"),
    "last_year": gettext_lazy("Last year"),
    "custom": gettext_lazy("Dates of my choice"),
}
PERIOD_ERRORS = {
    "Choose one of the periods offered.": lambda: _("Choose one of the periods offered."),
    "Enter a date.": lambda: _("Enter a date."),
    "Enter a date as YYYY-MM-DD.": lambda: _("Enter a date as YYYY-MM-DD."),
    "The period ends before it starts.": lambda: _("The period ends before it starts."),
    "A period may be at most ten years long.": lambda: _("A period may be at most ten years long."),
}


def period_choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in PERIOD_LABELS.items()]


def shown(cell: Cell, threshold: int) -> str:
    if cell is None:
        return f"<{threshold}"
    if isinstance(cell, float):
        return f"{cell:.1f}"
    return str(cell)


def parse_period(request: HttpRequest) -> tuple[periods.Period | None, dict[str, str]]:
    try:
        return periods.parse(request.GET, timezone.localdate()), {}
    except periods.PeriodError as error:
        translate = PERIOD_ERRORS.get(error.message)
        return None, {error.field: translate() if translate else error.message}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    unit = home_unit(request.user)
    if unit is None:
        raise Http404
    target = reverse("reports:dashboard", kwargs={"unit_id": unit.pk})
    query = urlencode({k: v for k, v in request.GET.items() if k in ("period", "start", "end")})
    return redirect(f"{target}?{query}" if query else target)


def _breadcrumbs(user: Any, unit: Unit) -> list[Unit]:
    """The units above (and including) this one that the user may open reports of."""
    roots = scope_paths(user, Action.REPORT_VIEW)
    return [u for u in unit.ancestors() if any(u.path.startswith(r) for r in roots)]


def _chart(table: Table, threshold: int) -> dict[str, Any] | None:
    if table.chart == "none" or not table.rows:
        return None
    rows = [r for r in table.rows if r.code != "total"]
    columns = table.columns
    if columns and columns[-1] == _("Total") and len(columns) > 1:
        columns = columns[:-1]
    return {
        "kind": table.chart,
        "title": table.title,
        "x": [r.label for r in rows],
        "series": [
            {
                "name": name,
                "data": [r.cells[i] if isinstance(r.cells[i], int | float) else None for r in rows],
            }
            for i, name in enumerate(columns)
        ],
    }


@login_required
def dashboard(request: HttpRequest, unit_id: Any) -> HttpResponse:
    unit = access_dashboard(request.user, unit_id)
    period, errors = parse_period(request)
    query = {k: v for k, v in request.GET.items() if k in ("period", "start", "end")}
    context: dict[str, Any] = {
        "unit": unit,
        "breadcrumbs": _breadcrumbs(request.user, unit),
        "choices": period_choices(),
        "errors": errors,
        "query": query,
        "querystring": urlencode(query),
        "may_review": can(request.user, Action.WORK_REPORT_REVIEW, unit)
        or can(request.user, Action.WORK_REPORT_WRITE, unit),
    }
    if period is None:
        context["selected"] = request.GET.get("period", "custom")
        return render(request, "reports/dashboard.html", context, status=400)
    board = indicators.build(unit=unit, period=period, suppress=must_suppress(request.user, unit))
    context.update(
        {
            "board": board,
            "period": period,
            "selected": period.code,
            "bucket": periods.bucket(period),
            "children": list(
                Unit.objects.filter(parent=unit, is_active=True).order_by("kind", "name")
            ),
            "sections": [
                {
                    "section": s,
                    "tables": [
                        {
                            "table": t,
                            "chart": _chart(t, board.threshold),
                            "chart_id": f"chart-{t.code}",
                            "rows": [
                                {
                                    "label": r.label,
                                    "cells": [shown(c, board.threshold) for c in r.cells],
                                    "total": r.code == "total",
                                }
                                for r in t.rows
                            ],
                            "csv": reverse(
                                "reports:table_csv", kwargs={"unit_id": unit.pk, "table": t.code}
                            )
                            + (f"?{urlencode(query)}" if query else ""),
                        }
                        for t in s.tables
                    ],
                }
                for s in board.sections
            ],
        }
    )
    return render(request, "reports/dashboard.html", context)


def csv_rows(board: Dashboard, table: Table) -> list[list[str]]:
    rows = [[table.label_header, *table.columns]]
    rows += [[r.label, *(shown(c, board.threshold) for c in r.cells)] for r in table.rows]
    return rows


@login_required
def table_csv(request: HttpRequest, unit_id: Any, table: str) -> HttpResponse:
    unit = access_dashboard(request.user, unit_id)
    period, errors = parse_period(request)
    if period is None:
        return HttpResponse(
            "; ".join(f"{k}: {v}" for k, v in errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    board = indicators.build(unit=unit, period=period, suppress=must_suppress(request.user, unit))
    try:
        chosen = board.table(table)
    except KeyError:
        raise Http404 from None
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{table}-{period.start}-{period.end}.csv"'
    )
    response["Cache-Control"] = "no-store"
    response.write("\ufeff")  # so that Excel opens UTF-8 Chinese text correctly
    csv.writer(response).writerows(
        [
            [f"# {board.unit_name} {period.start}–{period.end} {chosen.title}"],
            *csv_rows(board, chosen),
        ]
    )
    return response
