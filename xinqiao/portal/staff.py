"""Staff pages of the portal (QR codes and posters of units), mounted at /portal-admin/."""

from django.urls import URLPattern

app_name = "portal_staff"

urlpatterns: list[URLPattern] = []
