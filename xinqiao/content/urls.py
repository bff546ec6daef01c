"""Education (R-EDU): staff pages for articles and micro-lessons, and lesson media."""

from django.urls import URLPattern, path

from xinqiao.content import views

app_name = "content"

urlpatterns: list[URLPattern] = [
    path("", views.article_list, name="list"),
    path("new/article", views.new_article, name="new_article"),
    path("new/lesson", views.new_lesson, name="new_lesson"),
    path("stats", views.overview, name="overview"),
    path("<uuid:article_id>/", views.detail, name="detail"),
    path("<uuid:article_id>/edit", views.edit, name="edit"),
    path("<uuid:article_id>/publish", views.publish, name="publish"),
    path("<uuid:article_id>/schedule", views.schedule, name="schedule"),
    path("<uuid:article_id>/withdraw", views.withdraw, name="withdraw"),
    path("<uuid:article_id>/draft", views.to_draft, name="to_draft"),
    path("<uuid:article_id>/stats", views.stats, name="stats"),
    path("media/<uuid:article_id>", views.media, name="media"),
]
