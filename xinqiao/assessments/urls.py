from django.urls import path

from xinqiao.assessments import public, views

app_name = "assessments"
urlpatterns = [
    path("", views.assessment_list, name="list"),
    path("people/<uuid:person_id>/new/", views.assessment_new, name="new"),
    path(
        "people/<uuid:person_id>/new/<slug:code>/", views.assessment_administer, name="administer"
    ),
    path("people/<uuid:person_id>/invite/", views.invitation_new, name="invite"),
    path("<uuid:assessment_id>/", views.assessment_detail, name="detail"),
    path("<uuid:assessment_id>/withdraw/", views.assessment_withdraw, name="withdraw"),
    path("invitations/<uuid:invitation_id>/", views.invitation_detail, name="invitation"),
    path(
        "invitations/<uuid:invitation_id>/qr.<slug:fmt>",
        views.invitation_qr,
        name="invitation_qr",
    ),
    path(
        "invitations/<uuid:invitation_id>/sheet.pdf",
        views.invitation_sheet,
        name="invitation_sheet",
    ),
    path(
        "invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<uuid:campaign_id>/", views.campaign_detail, name="campaign"),
    path("campaigns/<uuid:campaign_id>/sheet.pdf", views.campaign_sheet, name="campaign_sheet"),
    path("campaigns/<uuid:campaign_id>/close/", views.campaign_close, name="campaign_close"),
]

selfservice_patterns = (
    [
        path("<str:token>/", public.start, name="start"),
        path("<str:token>/begin", public.begin, name="begin"),
        path("<str:token>/answer", public.answer, name="answer"),
        path("<str:token>/back", public.back, name="back"),
        path("<str:token>/done", public.done, name="done"),
    ],
    "selfservice",
)
