from django.urls import path

from xinqiao.followups import views

app_name = "followups"

urlpatterns = [
    path("", views.due_list, name="list"),
    path("oversee/", views.oversee, name="oversee"),
    path("people/<uuid:person_id>/visit/", views.visit_new, name="visit_new"),
    path("visits/<uuid:visit_id>/", views.visit_detail, name="visit"),
]
