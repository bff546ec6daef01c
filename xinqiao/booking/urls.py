from django.urls import path

from xinqiao.booking import public, views

app_name = "booking"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("unit/", views.unit_list, name="unit"),
    path("availability/", views.availability, name="availability"),
    path(
        "availability/changes/<uuid:change_id>/remove",
        views.remove_change,
        name="remove_change",
    ),
    path("people/<uuid:person_id>/book/", views.book_for_person, name="book"),
    path("people/<uuid:person_id>/link/", views.send_link, name="link"),
    path("links/<uuid:link_id>/revoke", views.revoke_link, name="revoke_link"),
    path("a/<uuid:appointment_id>/", views.detail, name="detail"),
    path("a/<uuid:appointment_id>/cancel", views.cancel, name="cancel"),
    path("a/<uuid:appointment_id>/reschedule", views.reschedule, name="reschedule"),
    path("a/<uuid:appointment_id>/attended", views.attended, name="attended"),
    path("a/<uuid:appointment_id>/no-show", views.no_show, name="no_show"),
    path("calendar.ics", views.calendar_download, name="calendar"),
    path("calendar/", views.calendar_feed, name="calendar_feed"),
    # Public: the person's own booking link and the counsellor's secret calendar feed.
    path("p/<str:token>/", public.start, name="public_start"),
    path("p/<str:token>/confirm/", public.confirm, name="public_confirm"),
    path("p/<str:token>/cancel/", public.cancel, name="public_cancel"),
    path("feed/<str:token>.ics", views.public_feed, name="feed"),
]
