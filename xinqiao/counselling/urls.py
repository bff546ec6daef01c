from django.urls import path

from xinqiao.counselling import views

app_name = "counselling"
urlpatterns = [
    path("", views.session_list, name="list"),
    path("new/", views.session_new, name="new"),
    path("people/<uuid:person_id>/new/", views.session_new, name="new_for"),
    path("programmes/", views.programme_list, name="programmes"),
    path("programmes/<uuid:programme_id>/", views.programme_detail, name="programme"),
    path("<uuid:session_id>/", views.session_detail, name="detail"),
    path(
        "<uuid:session_id>/participants/<uuid:participant_id>/",
        views.case_record_edit,
        name="case_record",
    ),
]
