from django.urls import path

from xinqiao.reports import urls_linelist, urls_work, views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("units/<uuid:unit_id>/", views.dashboard, name="dashboard"),
    *urls_linelist.urlpatterns,  # before <table>.csv, which would take "line-list.csv"
    path("units/<uuid:unit_id>/<slug:table>.csv", views.table_csv, name="table_csv"),
    *urls_work.urlpatterns,
]
