"""The line-list download, included by ``xinqiao.reports.urls`` in the ``reports`` namespace
(before its ``<slug:table>.csv`` route, which would otherwise take "line-list.csv")."""

from django.urls import path

from xinqiao.reports import views_linelist

urlpatterns = [
    path(
        "units/<uuid:unit_id>/line-list.csv",
        views_linelist.line_list,
        name="line_list",
    ),
]
