"""The effect-evaluation routes; included in the ``reports`` namespace by ``reports/urls.py``
(before its ``<slug:table>.csv`` route, which would otherwise take ``effect.csv``)."""

from django.urls import URLPattern, path

from xinqiao.reports import views_effect

urlpatterns: list[URLPattern] = [
    path("units/<uuid:unit_id>/effect/", views_effect.effect_page, name="effect"),
    path("units/<uuid:unit_id>/effect.csv", views_effect.effect_csv, name="effect_csv"),
]
