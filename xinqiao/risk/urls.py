from django.urls import path

from xinqiao.risk import views

app_name = "risk"
urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/open/", views.open_alerts_partial, name="open_alerts"),
    path("alerts/<uuid:alert_id>/", views.alert_detail, name="alert"),
    path("alerts/<uuid:alert_id>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("alerts/<uuid:alert_id>/contact/", views.alert_contact, name="contact"),
    path("alerts/<uuid:alert_id>/resolve/", views.alert_resolve, name="resolve"),
    path("alerts/<uuid:alert_id>/report.pdf", views.alert_report, name="report"),
    path("key-people/", views.key_person_list, name="key_people"),
    path("people/<uuid:person_id>/concern/", views.concern_new, name="concern"),
    path("people/<uuid:person_id>/level/", views.level_set, name="level"),
    path("response/", views.response_matrix, name="response"),
    path("smi/", views.smi_list, name="smi_list"),
    path("people/<uuid:person_id>/smi/register/", views.smi_register, name="smi_register"),
    path("smi/<uuid:person_id>/", views.smi_detail, name="smi"),
    path("smi/<uuid:person_id>/followup/", views.smi_followup, name="smi_followup"),
]
