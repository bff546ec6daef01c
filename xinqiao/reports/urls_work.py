"""Routes of the work reports (issue #9 item 3), included into the ``reports`` namespace by
``xinqiao/reports/urls.py``."""

from __future__ import annotations

from django.urls import URLPattern, path

from xinqiao.reports import views_work

urlpatterns: list[URLPattern] = [
    path("work/", views_work.work_list, name="work_list"),
    path("work/units/<uuid:unit_id>/", views_work.work_unit, name="work_unit"),
    path("work/units/<uuid:unit_id>/generate/", views_work.work_generate, name="work_generate"),
    path("work/<uuid:work_report_id>/", views_work.work_report, name="work_report"),
    path("work/<uuid:work_report_id>/report.pdf", views_work.work_pdf, name="work_pdf"),
    path("work/<uuid:work_report_id>/report.xlsx", views_work.work_xlsx, name="work_xlsx"),
    path("work/<uuid:work_report_id>/account/", views_work.work_account, name="work_account"),
    path("work/<uuid:work_report_id>/retry/", views_work.work_retry, name="work_retry"),
    path("work/<uuid:work_report_id>/submit/", views_work.work_submit, name="work_submit"),
    path("work/<uuid:work_report_id>/read/", views_work.work_read, name="work_read"),
    path("work/<uuid:work_report_id>/comments/", views_work.work_comment, name="work_comment"),
]
