"""Open data (issue #9 item 6): the dashboards' aggregates for a higher-level platform or a
provincial data centre to pull, as JSON and as an indicator export in a long CSV layout
(docs/open-data.md). Token or session authentication, like the rest of ``/api/v1/``.

Whatever is pulled here leaves the platform, so small counts are ALWAYS suppressed — also
when the caller works in the very community that owns the people, who would see them in full
on the dashboard (R-PRIVACY; issue #9 item 4: "any count below the threshold in anything shown
outside the unit that owns the people is suppressed", with complementary suppression).

* ``GET reports/units/`` — the units the caller may pull (``report.view`` in scope);
* ``GET reports/units/{id}/indicators`` — ``tables.as_json`` of the dashboard;
* ``GET reports/units/{id}/indicators.csv`` — the same figures, one row per cell.

404 outside the caller's units, 403 inside them without ``report.view``, 400 with the field
in error for a bad period; messages in the caller's language (the request's Accept-Language
or language cookie when it sends one, else the account's language).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone, translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import scoped
from xinqiao.reports import indicators, periods
from xinqiao.reports.access import access_dashboard
from xinqiao.reports.linelist import safe_text
from xinqiao.reports.tables import Cell, Dashboard, as_json
from xinqiao.reports.views import PERIOD_ERRORS

# The long layout of the indicator export: one row per cell of every table (docs/open-data.md).
CSV_COLUMNS = [
    "unit_id",
    "unit_code",
    "unit_name",
    "period_start",
    "period_end",
    "section",
    "table",
    "row_code",
    "row_label",
    "column_index",
    "column",
    "value",
]
OBJECT_TYPE = "reports.indicators"  # the access log's object type of a pull


def request_language(request: Request) -> str:
    """The caller's language: what the request asks for (LocaleMiddleware has activated it)
    if it asks, else the account's choice."""
    asked = request.META.get("HTTP_ACCEPT_LANGUAGE") or request.COOKIES.get(
        settings.LANGUAGE_COOKIE_NAME
    )
    if asked:
        return translation.get_language() or settings.LANGUAGE_CODE
    return getattr(request.user, "language", "") or settings.LANGUAGE_CODE


class InUserLanguage(APIView):
    """Answers (errors included) in the caller's language, known once authenticated."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._language_before = translation.get_language()
        translation.activate(request_language(request))

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if hasattr(self, "_language_before"):
            response.headers["Content-Language"] = translation.get_language()
            if self._language_before:
                translation.activate(self._language_before)
            else:
                translation.deactivate()
        return response


class CsvRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``text/csv``; errors are then ``field: message`` lines."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, dict):
            lines = []
            for key, value in data.items():
                messages = value if isinstance(value, list) else [value]
                lines += [f"{key}: {m}" for m in messages]
            return "\n".join(lines).encode()
        return str(data or "").encode()


# --- schema (what the JSON looks like; the data itself comes from ``tables.as_json``) --------


class _UnitRef(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()


class _PeriodRef(serializers.Serializer[Any]):
    start = serializers.DateField()
    end = serializers.DateField()


# ("label" is an attribute of every serializer field: this one is declared inline.)
_ROW = inline_serializer(
    "OpenDataRow",
    {
        "code": serializers.CharField(
            help_text="Stable code: a level, a group, a unit id; 'total'."
        ),
        "label": serializers.CharField(),
        "cells": serializers.ListField(
            child=serializers.JSONField(),
            help_text="One per column: a number; null where suppressed (shown as '<5'); "
            "'—' where the figure does not exist (the median of nothing).",
        ),
    },
    many=True,
)


class _Table(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()
    label_header = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    unit = serializers.CharField(help_text="What the numbers are, e.g. 'minutes'; '' = counts.")
    note = serializers.CharField()
    suppressed = serializers.BooleanField()
    rows = _ROW


class _Section(serializers.Serializer[Any]):
    code = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField()
    tables = _Table(many=True)


class OpenDataIndicators(serializers.Serializer[Any]):
    unit = _UnitRef()
    period = _PeriodRef()
    suppressed = serializers.BooleanField(help_text="Always true here.")
    threshold = serializers.IntegerField(help_text="Counts from 1 to threshold − 1 are hidden.")
    updated_at = serializers.CharField(help_text="When the aggregate tables were last updated.")
    sections = _Section(many=True)


class PeriodErrors(serializers.Serializer[Any]):
    period = serializers.ListField(child=serializers.CharField(), required=False)
    start = serializers.ListField(child=serializers.CharField(), required=False)
    end = serializers.ListField(child=serializers.CharField(), required=False)


PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period",
        str,
        enum=list(periods.CHOICES),
        required=False,
        description="A named period (default this_month), or 'custom' with start and end.",
    ),
    OpenApiParameter("start", OpenApiTypes.DATE, required=False, description="YYYY-MM-DD"),
    OpenApiParameter("end", OpenApiTypes.DATE, required=False, description="YYYY-MM-DD, included"),
]
ERRORS = {
    400: PeriodErrors,
    403: OpenApiResponse(description="The unit is yours but you may not see its reports."),
    404: OpenApiResponse(description="No such unit among yours."),
}


# --- views ------------------------------------------------------------------------------------


class OpenDataUnit(serializers.ModelSerializer[Unit]):
    # Plain text here: an enum would collide in the schema with the other "kind" choice sets.
    kind = serializers.CharField(
        read_only=True, help_text="city, district, street, community, grid, school, …"
    )

    class Meta:
        model = Unit
        fields = ["id", "name", "kind", "code", "parent"]


class ReportUnitList(InUserLanguage, generics.ListAPIView[Unit]):
    """The units whose indicators the caller may pull, in tree order."""

    serializer_class = OpenDataUnit

    @extend_schema(operation_id="reports_units_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Unit]:
        units = Unit.objects.filter(is_active=True).order_by("path")
        return scoped(units, self.request.user, Action.REPORT_VIEW)


def _board(request: Request, unit_id: Any, form: str) -> tuple[Unit, Dashboard] | Response:
    """The suppressed dashboard of the unit for the requested period, or a 400 answer."""
    unit = access_dashboard(request.user, unit_id)
    try:
        period = periods.parse(request.query_params, timezone.localdate())
    except periods.PeriodError as error:
        translate = PERIOD_ERRORS.get(error.message)
        message = translate() if translate else error.message
        return Response({error.field: [message]}, status=status.HTTP_400_BAD_REQUEST)
    log_access(
        request._request,
        unit,
        kind=AccessKind.EXPORT,
        object_type=OBJECT_TYPE,
        unit_path=unit.path,
        reason=f"open data {form}: {period.start}..{period.end}",
    )
    # Leaves the platform: suppressed whoever asks (module docstring).
    return unit, indicators.build(unit=unit, period=period, suppress=True)


class UnitIndicators(InUserLanguage):
    @extend_schema(
        operation_id="reports_unit_indicators",
        parameters=PERIOD_PARAMETERS,
        responses={200: OpenDataIndicators, **ERRORS},
    )
    def get(self, request: Request, unit_id: Any) -> Response:
        """The unit's dashboard for the period, small counts suppressed (null)."""
        found = _board(request, unit_id, "json")
        if isinstance(found, Response):
            return found
        return Response(as_json(found[1]))


def csv_value(cell: Cell, threshold: int) -> str:
    """A cell of the long layout: "<5" where suppressed, empty where the figure does not
    exist, else the number (decimals rounded to 4 places)."""
    if cell is None:
        return f"<{threshold}"
    if cell == indicators.NOT_APPLICABLE:
        return ""
    if isinstance(cell, bool):
        return str(int(cell))
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        return str(round(cell, 4))
    return safe_text(str(cell))


def long_rows(board: Dashboard, unit_code: str) -> list[list[str]]:
    head = [
        board.unit_id,
        safe_text(unit_code),
        safe_text(board.unit_name),
        board.start.isoformat(),
        board.end.isoformat(),
    ]
    rows: list[list[str]] = []
    for section in board.sections:
        for table in section.tables:
            for row in table.rows:
                for index, cell in enumerate(row.cells):
                    column = table.columns[index] if index < len(table.columns) else ""
                    rows.append(
                        [
                            *head,
                            section.code,
                            table.code,
                            safe_text(row.code),
                            safe_text(row.label),
                            str(index),
                            safe_text(column),
                            csv_value(cell, board.threshold),
                        ]
                    )
    return rows


def indicator_csv(board: Dashboard, unit_code: str) -> bytes:
    """UTF-8 with a byte-order mark (Excel), CRLF line ends (RFC 4180), the header first."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(long_rows(board, unit_code))
    return buffer.getvalue().encode("utf-8")


class UnitIndicatorsCsv(InUserLanguage):
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    @extend_schema(
        operation_id="reports_unit_indicators_csv",
        parameters=PERIOD_PARAMETERS,
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="One row per cell: " + ",".join(CSV_COLUMNS),
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, unit_id: Any) -> Response | HttpResponse:
        """The unit's indicators as CSV in the long layout of docs/open-data.md."""
        found = _board(request, unit_id, "csv")
        if isinstance(found, Response):
            return found
        unit, board = found
        response = HttpResponse(
            indicator_csv(board, unit.code), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="indicators-{board.start}-{board.end}.csv"'
        )
        response["Cache-Control"] = "no-store"
        return response
