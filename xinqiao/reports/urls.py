from django.urls import path

from xinqiao.reports import urls_effect, urls_linelist, urls_work, views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/<uuid:unit_id>/", views.dashboard, name="dashboard"),
    # Before <table>.csv, which would take "line-list.csv" and "effect.csv":
    *urls_linelist.urlpatterns,
    *urls_effect.urlpatterns,
    path("units/<uuid:unit_id>/<slug:table>.csv", views.table_csv, name="table_csv"),
    *urls_work.urlpatterns,
]
