from django.urls import path

from xinqiao.audit import views

app_name = "audit"
urlpatterns = [
    path("access/", views.access_log, name="access"),
    path("access.csv", views.access_log_csv, name="access_csv"),
    path("changes/", views.change_log, name="changes"),
    path("changes.csv", views.change_log_csv, name="changes_csv"),
]
