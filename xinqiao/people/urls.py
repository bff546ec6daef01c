from django.urls import path

from xinqiao.people import breakglass, views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("search/", views.person_search, name="search"),
    path("new/", views.person_create, name="create"),
    path("export.xlsx", views.person_export, name="export"),
    path("import/", views.import_upload, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<uuid:job_id>/", views.import_detail, name="import_detail"),
    path("import/<uuid:job_id>/status/", views.import_status, name="import_status"),
    path("import/<uuid:job_id>/start/", views.import_start, name="import_start"),
    path("transfers/", views.transfer_inbox, name="transfers"),
    path("transfers/request/", views.request_file, name="request_file"),
    path("transfers/<uuid:transfer_id>/decide/", views.transfer_decide, name="transfer_decide"),
    path("transfers/<uuid:transfer_id>/cancel/", views.transfer_cancel, name="transfer_cancel"),
    path("break-glass/", breakglass.break_glass, name="break_glass"),
    path("break-glass/review/", breakglass.break_glass_review, name="break_glass_review"),
    path("<uuid:person_id>/", views.person_detail, name="detail"),
    path("<uuid:person_id>/edit/", views.person_edit, name="edit"),
    path("<uuid:person_id>/timeline/", views.person_timeline, name="timeline"),
    path("<uuid:person_id>/groups/new/", views.group_add, name="group_add"),
    path("<uuid:person_id>/groups/<uuid:group_id>/end/", views.group_end, name="group_end"),
    path("<uuid:person_id>/hospital/new/", views.hospital_add, name="hospital_add"),
    path("<uuid:person_id>/isolation/new/", views.isolation_add, name="isolation_add"),
    path("<uuid:person_id>/family/new/", views.family_add, name="family_add"),
    path("<uuid:person_id>/consents/new/", views.consent_add, name="consent_add"),
    path(
        "<uuid:person_id>/consents/<uuid:consent_id>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("<uuid:person_id>/transfer/", views.transfer_propose, name="transfer"),
    path("<uuid:person_id>/archive/", views.person_archive, name="archive"),
    path("<uuid:person_id>/erase/", views.person_erase, name="erase"),
]
