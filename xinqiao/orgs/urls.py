from django.urls import path

from xinqiao.orgs import views

app_name = "orgs"
urlpatterns = [
    path("units/", views.unit_tree, name="tree"),
    path("units/<uuid:unit_id>/", views.unit_detail, name="unit"),
    path("units/<uuid:unit_id>/new/", views.unit_create, name="unit_create"),
    path("units/<uuid:unit_id>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<uuid:unit_id>/move/", views.unit_move, name="unit_move"),
    path("units/<uuid:unit_id>/active/", views.unit_set_active, name="unit_set_active"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<uuid:staff_id>/", views.staff_detail, name="staff"),
    path("staff/<uuid:staff_id>/profile/", views.staff_profile_edit, name="staff_profile"),
    path("staff/<uuid:staff_id>/roles/new/", views.staff_grant, name="staff_grant"),
    path("staff/<uuid:staff_id>/agreements/new/", views.agreement_add, name="agreement_add"),
    path("staff/<uuid:staff_id>/active/", views.staff_set_active, name="staff_set_active"),
    path("staff/<uuid:staff_id>/unlock/", views.staff_unlock, name="staff_unlock"),
    path(
        "memberships/<uuid:membership_id>/revoke/",
        views.membership_revoke,
        name="membership_revoke",
    ),
    path("agreements/<uuid:agreement_id>/revoke/", views.agreement_revoke, name="agreement_revoke"),
    path("teams/", views.team_list, name="team_list"),
    path("staffing/", views.staffing_overview, name="staffing"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<uuid:team_id>/", views.team_detail, name="team"),
    path(
        "teams/<uuid:team_id>/members/<uuid:member_id>/remove/",
        views.team_member_remove,
        name="team_member_remove",
    ),
]
