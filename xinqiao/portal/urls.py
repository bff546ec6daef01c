"""The public portal, mounted at /p/ (namespace ``portal``). Each part keeps its own routes."""

from django.urls import URLPattern

from xinqiao.portal import accounts, assess, book, core

app_name = "portal"

urlpatterns: list[URLPattern] = [
    *assess.urlpatterns,
    *book.urlpatterns,
    *accounts.urlpatterns,
    *core.urlpatterns,  # last: it holds the catch-all unit home /p/<ref>/
]
