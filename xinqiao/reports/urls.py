from django.urls import path

from xinqiao.reports import urls_work, views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/<uuid:unit_id>/", views.dashboard, name="dashboard"),
    path("units/<uuid:unit_id>/<slug:table>.csv", views.table_csv, name="table_csv"),
    *urls_work.urlpatterns,
]
