"""Anonymous self-assessment on the public portal (issue #8 item 4, R-ASSESS, R-CRISIS).

No name, no birth date, no account: the visitor picks a questionnaire, reads what happens to
the answers (kept anonymously for the unit's statistics; nobody calls unless asked) and
agrees — with a parent or guardian when under 14 (PIPL Art. 31) — then answers one question
per screen (plain forms, no JavaScript needed, a "back" button) and can close the page and
come back: a resume key in a signed cookie scoped to the questionnaire's path, as on a
self-assessment link (``assessments/public.py``). The score is computed on the server.

The result page is never just a score. After a serious result (``is_serious``: a severe band
or a critical item such as PHQ-9 item 9) it first offers an immediate call-back — an urgent
item on the hotline's queue — with the unit's service phone, the 24-hour hotline, 110/120 and
the crisis path. Moderate results suggest booking and the mailbox; mild ones the lessons.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xinqiao.assessments import actions
from xinqiao.assessments.forms import posted_answer, question_context
from xinqiao.assessments.interpretation import is_serious, respondent_message
from xinqiao.assessments.models import Assessment, AssessmentStatus, Intervention, Respondent
from xinqiao.audit.log import client_ip
from xinqiao.hotline.callbacks import MAX_NOTE
from xinqiao.hotline.models import CallbackRequest
from xinqiao.instruments.engine import Instrument
from xinqiao.instruments.library import library
from xinqiao.lib.idempotency import idempotent
from xinqiao.lib.ratelimit import hit
from xinqiao.portal.models import PortalPage
from xinqiao.portal.page import portal_view, render_portal

COOKIE_SALT = "xinqiao.portal.assess"
COOKIE_DAYS = 30

# The questionnaires the public may take on the portal, with a plain description of each.
# Only instruments whose licence note (in the instrument file) allows free public use and
# self-administration, and which a frightened visitor can answer alone:
# - phq9, gad7, phqa: "No permission required to reproduce, translate, display or
#   distribute" (Pfizer, PHQ family; phq9.yaml, gad7.yaml, phqa.yaml);
# - who5: CC BY-NC-SA 3.0 IGO, "Free use on this non-commercial public platform" (who5.yaml);
# - k6: "Free to use with citation of Kessler et al. (2002, 2003); no fee or permission
#   procedure" (k6.yaml).
# Left out: AIS, PSS-10, SAS, SDS (their files say "licence unverified … confirm before
# release"), ASQ (a suicide-risk screen "every positive answer must reach a person at once":
# for staff settings, asq.yaml), PCL-5 and PHQ-15 (trauma and bodily symptoms: for a
# clinician to go through with the person).
PORTAL_INSTRUMENTS: dict[str, Promise] = {
    "phq9": gettext_lazy(
        "How your mood, sleep, energy and interest in things have been over the last two weeks."
    ),
    "gad7": gettext_lazy("Worry, nervousness and tension over the last two weeks."),
    "phqa": gettext_lazy(
        "For young people: mood, sleep, energy and interest in things over the last two weeks."
    ),
    "who5": gettext_lazy(
        "How cheerful, calm, active and rested you have felt over the last two weeks."
    ),
    "k6": gettext_lazy(
        "How often you have felt nervous, hopeless, restless, sad or worthless in the last 30 days."
    ),
}
# About how long one question takes on a phone (for "about N minutes").
SECONDS_PER_QUESTION = 20


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def _language() -> str:
    return "zh" if _zh() else "en"


def offered() -> list[Instrument]:
    """The portal's questionnaires that are in the library, in the order above."""
    found = library()
    return [found[code] for code in PORTAL_INSTRUMENTS if code in found]


def _offered(code: str) -> Instrument | None:
    return library().get(code) if code in PORTAL_INSTRUMENTS else None


def _minutes(instrument: Instrument) -> int:
    return max(1, math.ceil(len(instrument.items) * SECONDS_PER_QUESTION / 60))


def _ages(instrument: Instrument) -> str:
    limits = instrument.meta.get("age") or {}
    low, high = limits.get("min"), limits.get("max")
    if low is not None and high is not None:
        return _("For ages %(low)d to %(high)d") % {"low": low, "high": high}
    if low is not None:
        return _("For ages %(low)d and over") % {"low": low}
    return ""


def _describe(instrument: Instrument) -> dict[str, Any]:
    return {
        "code": instrument.code,
        "name": instrument.zh if _zh() else instrument.en,
        "about": PORTAL_INSTRUMENTS[instrument.code],
        "count": len(instrument.items),
        "minutes": _minutes(instrument),
        "ages": _ages(instrument),
    }


# --- the resume key -----------------------------------------------------------------------


def _cookie_name(code: str) -> str:
    return f"xq_pa_{code}"


def _cookie_path(ref: str, code: str) -> str:
    return reverse("portal:assess_start", args=[ref, code])


def _resume_key(request: HttpRequest, code: str) -> str:
    key = request.get_signed_cookie(
        _cookie_name(code), default="", salt=COOKIE_SALT, max_age=COOKIE_DAYS * 86400
    )
    return key or ""


def _remember(response: HttpResponse, request: HttpRequest, ref: str, code: str, key: str) -> None:
    response.set_signed_cookie(
        _cookie_name(code),
        key,
        salt=COOKIE_SALT,
        max_age=COOKIE_DAYS * 86400,
        path=_cookie_path(ref, code),
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def _mine(request: HttpRequest, instrument: Instrument) -> Assessment | None:
    """This browser's assessment of ``instrument`` on this portal (the resume key finds it;
    without the cookie nobody can reach it)."""
    unit = request.portal.unit  # type: ignore[attr-defined]
    found = actions.portal_resumable(unit, _resume_key(request, instrument.code))
    if found is None or found.instrument != instrument.code:
        return None
    return found


def _not_offered(request: HttpRequest) -> HttpResponse:
    return render_portal(request, "portal/assess/unavailable.html", {}, status=404)


# --- the list ------------------------------------------------------------------------------


@portal_view(PortalPage.ASSESS, shared=True)
@require_GET
def index(request: HttpRequest, ref: str) -> HttpResponse:
    """The questionnaires offered, each with what it asks about and how long it takes."""
    return render_portal(
        request, "portal/assess/index.html", {"instruments": [_describe(i) for i in offered()]}
    )


# --- consent -------------------------------------------------------------------------------


class PortalStartForm(forms.Form):
    """The consent screen (R-CONSENT; PIPL Art. 29, 31). Anonymous: no birth date, only "are
    you under 14?" — and then a parent or guardian must agree."""

    under_14 = forms.TypedChoiceField(
        label=gettext_lazy("Are you under 14?"),
        choices=(("no", gettext_lazy("No, I am 14 or older")), ("yes", gettext_lazy("Yes"))),
        widget=forms.RadioSelect,
        coerce=lambda value: value == "yes",
        error_messages={"required": gettext_lazy("Please say whether you are under 14.")},
    )
    respondent = forms.ChoiceField(
        label=gettext_lazy("Who is answering?"),
        choices=(
            (Respondent.SELF, gettext_lazy("I am answering for myself")),
            (Respondent.GUARDIAN, gettext_lazy("My parent or guardian is with me and agrees")),
        ),
        widget=forms.RadioSelect,
        initial=Respondent.SELF,
        error_messages={"required": gettext_lazy("Say who is answering.")},
    )
    agree = forms.BooleanField(
        label=gettext_lazy("I have read the above and agree to take part."),
        error_messages={"required": gettext_lazy("Please tick the box to agree before you start.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # PIPL Art. 31: a child under 14 takes part only with a guardian's consent.
        if data.get("under_14") and data.get("respondent") != Respondent.GUARDIAN:
            self.add_error(
                "respondent",
                _(
                    "You are under 14: please ask your parent or guardian to read this with "
                    "you and agree."
                ),
            )
        return data


def _consent_page(
    request: HttpRequest,
    instrument: Instrument,
    form: PortalStartForm,
    status: int = 200,
    finished: Assessment | None = None,
) -> HttpResponse:
    return render_portal(
        request,
        "portal/assess/consent.html",
        {"instrument": _describe(instrument), "form": form, "finished": finished},
        status=status,
    )


def _question(
    request: HttpRequest, ref: str, assessment: Assessment, error: str = ""
) -> HttpResponse:
    return render_portal(
        request,
        "portal/assess/question.html",
        {
            **question_context(assessment, _language()),
            "code": assessment.instrument,
            "error": error,
        },
        status=400 if error else 200,
    )


@portal_view(PortalPage.ASSESS)
@require_GET
def start(request: HttpRequest, ref: str, code: str) -> HttpResponse:
    """The questionnaire's page: the consent screen, the current question (after closing the
    page and coming back too), or on to the result."""
    instrument = _offered(code)
    if instrument is None:
        return _not_offered(request)
    assessment = _mine(request, instrument)
    if assessment is not None and assessment.status == AssessmentStatus.IN_PROGRESS:
        return _question(request, ref, assessment)
    if assessment is not None and request.GET.get("again") != "1":
        return redirect("portal:assess_result", ref, code)
    return _consent_page(request, instrument, PortalStartForm(), finished=assessment)


@portal_view(PortalPage.ASSESS)
@idempotent("portal.assess_begin")
@require_POST
def begin(request: HttpRequest, ref: str, code: str) -> HttpResponse:
    instrument = _offered(code)
    if instrument is None:
        return _not_offered(request)
    form = PortalStartForm(request.POST)
    if not form.is_valid():
        return _consent_page(request, instrument, form, status=400)
    current = _mine(request, instrument)
    if current is not None and current.status == AssessmentStatus.IN_PROGRESS:
        key = _resume_key(request, code)  # a second tap on "start": carry on
    else:
        # New assessments per client address per hour (as on a self-assessment link).
        if not hit(
            cache,
            scope=f"portal-assess-start:{request.portal.unit.pk}",  # type: ignore[attr-defined]
            subject=client_ip(request) or "unknown",
            limit=settings.XINQIAO_SELF_SERVICE_STARTS_PER_HOUR,
            window_seconds=3600,
        ):
            response = render_portal(
                request, "portal/message.html", {"kind": "rate_limited"}, status=429
            )
            response["Retry-After"] = "3600"
            return response
        key = secrets.token_urlsafe(24)
    try:
        actions.begin_portal_assessment(
            unit=request.portal.unit,  # type: ignore[attr-defined]
            instrument=code,
            respondent=form.cleaned_data["respondent"],
            under_14=form.cleaned_data["under_14"],
            resume_key=key,
            language=_language(),
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _consent_page(request, instrument, form, status=400)
    response = redirect("portal:assess_start", ref, code)
    _remember(response, request, ref, code, key)
    return response


# --- answering -----------------------------------------------------------------------------


def _in_progress(
    request: HttpRequest, ref: str, code: str
) -> tuple[Instrument, Assessment] | HttpResponse:
    instrument = _offered(code)
    if instrument is None:
        return _not_offered(request)
    assessment = _mine(request, instrument)
    if assessment is None:
        return redirect("portal:assess_start", ref, code)
    if assessment.status != AssessmentStatus.IN_PROGRESS:
        return redirect("portal:assess_result", ref, code)
    return instrument, assessment


@portal_view(PortalPage.ASSESS)
@idempotent("portal.assess_answer")
@require_POST
def answer(request: HttpRequest, ref: str, code: str) -> HttpResponse:
    found = _in_progress(request, ref, code)
    if isinstance(found, HttpResponse):
        return found
    _instrument, assessment = found
    posted = posted_answer(request.POST)
    if posted is None:
        return _question(request, ref, assessment, error=_("Choose one of the answers."))
    try:
        assessment = actions.save_answer(assessment=assessment, **posted)
    except ValidationError as exc:
        return _question(request, ref, assessment, error=" ".join(exc.messages))
    if assessment.status == AssessmentStatus.COMPLETED:  # the last answer finished it
        _remember_for_account(request, assessment)
        return redirect("portal:assess_result", ref, code)
    return redirect("portal:assess_start", ref, code)


@portal_view(PortalPage.ASSESS)
@idempotent("portal.assess_back")
@require_POST
def back(request: HttpRequest, ref: str, code: str) -> HttpResponse:
    found = _in_progress(request, ref, code)
    if isinstance(found, HttpResponse):
        return found
    actions.step_back(assessment=found[1])
    return redirect("portal:assess_start", ref, code)


def _remember_for_account(request: HttpRequest, assessment: Assessment) -> None:
    """A visitor signed in with a light account keeps the result in their history (issue #8
    item 5); an anonymous one leaves no trace beyond the unit's statistics."""
    from xinqiao.portal.accounts import current_account, remember_assessment

    account = current_account(request)
    if account is not None:
        remember_assessment(account=account, assessment=assessment)


# --- the result ----------------------------------------------------------------------------


def _finished(request: HttpRequest, code: str) -> tuple[Instrument, Assessment] | HttpResponse:
    instrument = _offered(code)
    if instrument is None:
        return _not_offered(request)
    assessment = _mine(request, instrument)
    if assessment is None or assessment.status != AssessmentStatus.COMPLETED:
        # Another browser, or nothing finished here: the result is only for its owner.
        return render_portal(request, "portal/assess/unavailable.html", {}, status=404)
    return instrument, assessment


def _result_page(
    request: HttpRequest,
    instrument: Instrument,
    assessment: Assessment,
    *,
    errors: dict[str, list[str]] | None = None,
    limited: bool = False,
    status: int = 200,
) -> HttpResponse:
    serious = is_serious(assessment)
    moderate = assessment.intervention in (Intervention.GROUP, Intervention.FAMILY)
    from xinqiao.portal.core import links

    return render_portal(
        request,
        "portal/assess/result.html",
        {
            "code": instrument.code,
            "name": instrument.zh if _zh() else instrument.en,
            "result": respondent_message(assessment),
            "serious": serious,
            "moderate": moderate and not serious,
            "links": links(request.portal.unit),  # type: ignore[attr-defined]
            "callback": (
                CallbackRequest.objects.filter(assessment=assessment).first() if serious else None
            ),
            "errors": errors or {},
            "limited": limited,
            "phone": request.POST.get("phone", "")[:40] if request.method == "POST" else "",
            "note": request.POST.get("note", "")[:MAX_NOTE] if request.method == "POST" else "",
            "max_note": MAX_NOTE,
            "minutes": settings.XINQIAO_CALLBACK_TARGET_MINUTES,
        },
        status=status,
    )


@portal_view(PortalPage.ASSESS)
@require_GET
def result(request: HttpRequest, ref: str, code: str) -> HttpResponse:
    found = _finished(request, code)
    if isinstance(found, HttpResponse):
        return found
    return _result_page(request, *found)


@portal_view(PortalPage.ASSESS)
@idempotent("portal.assess_callback")
@require_POST
def callback(request: HttpRequest, ref: str, code: str) -> HttpResponse:
    """The call-back a serious result offers: only from the browser that took the assessment,
    once per assessment (R-CRISIS: an urgent item on the hotline's call-back queue)."""
    found = _finished(request, code)
    if isinstance(found, HttpResponse):
        return found
    instrument, assessment = found
    if not is_serious(assessment):
        return render_portal(request, "portal/assess/unavailable.html", {}, status=404)
    from xinqiao.portal.core import CALLBACKS_PER_HOUR

    # The same budget per client address as the crisis path's call-backs (R-CRISIS): a
    # script must not flood the hotline's queue through finished assessments.
    if not hit(
        cache,
        scope="portal-callback",
        subject=client_ip(request) or "unknown",
        limit=CALLBACKS_PER_HOUR,
        window_seconds=3600,
    ):
        response = _result_page(request, instrument, assessment, limited=True, status=429)
        response["Retry-After"] = "3600"
        return response
    try:
        actions.request_assessment_callback(
            assessment=assessment,
            phone=request.POST.get("phone", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        return _result_page(request, instrument, assessment, errors=exc.message_dict, status=400)
    return redirect(reverse("portal:assess_result", args=[ref, code]) + "?asked=1")


urlpatterns: list[URLPattern] = [
    path("<str:ref>/assess/", index, name="assess"),
    path("<str:ref>/assess/<slug:code>/", start, name="assess_start"),
    path("<str:ref>/assess/<slug:code>/begin/", begin, name="assess_begin"),
    path("<str:ref>/assess/<slug:code>/answer/", answer, name="assess_answer"),
    path("<str:ref>/assess/<slug:code>/back/", back, name="assess_back"),
    path("<str:ref>/assess/<slug:code>/result/", result, name="assess_result"),
    path("<str:ref>/assess/<slug:code>/callback/", callback, name="assess_callback"),
]
