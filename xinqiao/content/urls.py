"""Education (R-EDU): staff pages for articles and micro-lessons, and lesson media."""

from django.urls import URLPattern, path

from xinqiao.content import views

app_name = "content"

urlpatterns: list[URLPattern] = [
    path("media/<uuid:article_id>", views.media, name="media"),
]
