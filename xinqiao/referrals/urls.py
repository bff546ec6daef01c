from django.urls import path

from xinqiao.referrals import views

app_name = "referrals"
urlpatterns = [
    path("", views.referral_list, name="list"),
    path("people/<uuid:person_id>/new/", views.referral_new, name="new"),
    path("<uuid:referral_id>/", views.referral_detail, name="detail"),
    path("<uuid:referral_id>/accept/", views.referral_accept, name="accept"),
    path("<uuid:referral_id>/decline/", views.referral_decline, name="decline"),
    path("<uuid:referral_id>/outcome/", views.referral_outcome, name="outcome"),
    path("<uuid:referral_id>/cancel/", views.referral_cancel, name="cancel"),
    path("<uuid:referral_id>/discharge/", views.referral_discharge, name="discharge"),
]
