"""Open-data routes under ``/api/v1/reports/`` (issue #9 item 6; docs/open-data.md), included
in ``api_v1`` (the "api" namespace) by ``xinqiao.urls``."""

from django.urls import path

from xinqiao.reports import api

urlpatterns = [
    path("units/", api.ReportUnitList.as_view(), name="report_units"),
    path(
        "units/<uuid:unit_id>/indicators",
        api.UnitIndicators.as_view(),
        name="report_indicators",
    ),
    path(
        "units/<uuid:unit_id>/indicators.csv",
        api.UnitIndicatorsCsv.as_view(),
        name="report_indicators_csv",
    ),
]
