from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from xinqiao.accounts import api as accounts_api
from xinqiao.assessments import api as assessments_api
from xinqiao.assessments.urls import selfservice_patterns
from xinqiao.instruments import api as instruments_api
from xinqiao.ops.metrics import metrics
from xinqiao.orgs import api as orgs_api
from xinqiao.people import api as people_api
from xinqiao.risk import api as risk_api
from xinqiao.workbench.views import healthz

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token", accounts_api.obtain_token, name="token"),
    path("me", accounts_api.me, name="me"),
    path("units/", orgs_api.UnitList.as_view(), name="units"),
    path("units/<uuid:unit_id>/", orgs_api.UnitDetail.as_view(), name="unit"),
    path("staff/", orgs_api.StaffList.as_view(), name="staff_list"),
    path("staff/<uuid:staff_id>/", orgs_api.StaffDetail.as_view(), name="staff"),
    path("teams/", orgs_api.TeamList.as_view(), name="teams"),
    path("teams/<uuid:team_id>/", orgs_api.TeamDetail.as_view(), name="team"),
    path("people/", people_api.PeopleList.as_view(), name="people"),
    path("people/<uuid:person_id>/", people_api.PersonView.as_view(), name="person"),
    path(
        "people/<uuid:person_id>/assessments/",
        assessments_api.PersonAssessments.as_view(),
        name="person_assessments",
    ),
    path(
        "assessments/<uuid:assessment_id>/",
        assessments_api.AssessmentView.as_view(),
        name="assessment",
    ),
    path(
        "assessments/<uuid:assessment_id>/fhir",
        assessments_api.assessment_fhir,
        name="assessment_fhir",
    ),
    path("alerts/", risk_api.AlertList.as_view(), name="alerts"),
    path("alerts/<uuid:alert_id>/acknowledge", risk_api.acknowledge, name="alert_acknowledge"),
    path("score", instruments_api.score_answers, name="score"),
    path("instruments/", instruments_api.instrument_list, name="instruments"),
    path("instruments/<slug:code>/", instruments_api.instrument_detail, name="instrument"),
    path("instruments/<slug:code>/fhir", instruments_api.instrument_fhir, name="instrument_fhir"),
    path("reports/", include("xinqiao.reports.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (CSP, settings.py).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]

urlpatterns = [
    path("", include("xinqiao.workbench.urls")),
    path("accounts/", include("xinqiao.accounts.urls")),
    path("org/", include("xinqiao.orgs.urls")),
    path("audit/", include("xinqiao.audit.urls")),
    path("people/", include("xinqiao.people.urls")),
    path("assessments/", include("xinqiao.assessments.urls")),
    path("notify/", include("xinqiao.notify.urls")),
    path("referrals/", include("xinqiao.referrals.urls")),
    path("risk/", include("xinqiao.risk.urls")),
    path("followups/", include("xinqiao.followups.urls")),
    path("counselling/", include("xinqiao.counselling.urls")),
    path("reports/", include("xinqiao.reports.urls")),
    path("booking/", include("xinqiao.booking.urls")),
    path("hotline/", include("xinqiao.hotline.urls")),
    path("mailbox/", include("xinqiao.hotline.mailbox_public")),
    path("p/", include("xinqiao.portal.urls")),
    path("portal-admin/", include("xinqiao.portal.staff")),
    path("content/", include("xinqiao.content.urls")),
    path("s/", include(selfservice_patterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", include((api_v1, "api"))),
]

handler400 = "xinqiao.workbench.errors.bad_request"
handler403 = "xinqiao.workbench.errors.forbidden"
handler404 = "xinqiao.workbench.errors.not_found"
handler500 = "xinqiao.workbench.errors.server_error"
