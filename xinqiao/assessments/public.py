"""Self-assessment on the respondent's phone, through a link or QR code (R-ASSESS, R-CONSENT).

Nobody is signed in: the link is the credential. The respondent reads the consent text and
agrees (or a guardian does), answers one question per screen and can close the page and come
back (a resume key in a cookie scoped to the link; a personal link resumes anywhere). The
result page is kind: no clinical label for a serious result, and the hotline number always.
Every page is rate-limited per client address (429 when hammered).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinqiao.assessments import actions
from xinqiao.assessments.forms import StartForm, posted_answer, question_context
from xinqiao.assessments.interpretation import respondent_message
from xinqiao.assessments.models import Assessment, AssessmentStatus, Invitation
from xinqiao.audit.log import client_ip
from xinqiao.lib.crypto import digest_token
from xinqiao.lib.idempotency import idempotent
from xinqiao.lib.ratelimit import hit

COOKIE_SALT = "xinqiao.selfservice"
COOKIE_DAYS = 30

UNAVAILABLE_STATUS = {"unknown": 404, "revoked": 410, "expired": 410, "used": 410, "closed": 410}


def _language() -> str:
    return "zh" if (get_language() or "zh-hans").startswith("zh") else "en"


def _limited(request: HttpRequest) -> HttpResponse | None:
    allowed = hit(
        cache,
        scope="selfservice",
        subject=client_ip(request) or "unknown",
        limit=settings.XINQIAO_SELF_SERVICE_RATE_PER_MINUTE,
        window_seconds=60,
    )
    if allowed:
        return None
    response = render(request, "selfservice/message.html", {"kind": "rate_limited"}, status=429)
    response["Retry-After"] = "60"
    return response


def _cookie_name(invitation: Invitation) -> str:
    return f"xq_{invitation.pk.hex[:16]}"


def _resume_key(request: HttpRequest, invitation: Invitation) -> str:
    key = request.get_signed_cookie(
        _cookie_name(invitation), default="", salt=COOKIE_SALT, max_age=COOKIE_DAYS * 86400
    )
    return key or ""


def _unavailable(request: HttpRequest, reason: str) -> HttpResponse:
    return render(
        request,
        "selfservice/message.html",
        {"kind": reason},
        status=UNAVAILABLE_STATUS.get(reason, 404),
    )


def _question(
    request: HttpRequest, token: str, assessment: Assessment, error: str = ""
) -> HttpResponse:
    return render(
        request,
        "selfservice/question.html",
        {**question_context(assessment, _language()), "token": token, "error": error},
        status=400 if error else 200,
    )


@never_cache
def start(request: HttpRequest, token: str) -> HttpResponse:
    """The link: the consent screen, the current question, or the result."""
    limited = _limited(request)
    if limited:
        return limited
    try:
        invitation = actions.find_invitation(token)
    except actions.InvitationUnavailable as exc:
        if exc.reason == "used":
            return redirect("selfservice:done", token=token)
        return _unavailable(request, exc.reason)
    key = _resume_key(request, invitation)
    assessment = actions.resumable(invitation, key)
    if assessment is None:
        form = StartForm(personal=invitation.is_personal)
        return _consent_page(request, token, invitation, form)
    if not key or assessment.resume_digest != digest_token(key):
        # A personal link opened in another browser: the answers follow the person there,
        # and from now on only this browser shows the result.
        key = secrets.token_urlsafe(24)
        assessment = actions.move_to_browser(assessment=assessment, resume_key=key)
    if assessment.position >= len(assessment.answers):
        response = _finish(request, token, assessment)
    else:
        response = _question(request, token, assessment)
    _remember(response, request, invitation, token, key)
    return response


def _remember(
    response: HttpResponse, request: HttpRequest, invitation: Invitation, token: str, key: str
) -> None:
    response.set_signed_cookie(
        _cookie_name(invitation),
        key,
        salt=COOKIE_SALT,
        max_age=COOKIE_DAYS * 86400,
        path=f"/s/{token}/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def _consent_page(
    request: HttpRequest, token: str, invitation: Invitation, form: StartForm, status: int = 200
) -> HttpResponse:
    instrument = invitation.instrument_definition
    zh = _language() == "zh"
    return render(
        request,
        "selfservice/consent.html",
        {
            "token": token,
            "form": form,
            "invitation": invitation,
            "name": instrument.zh if zh else instrument.en,
            "items": len(instrument.items),
            "unit": invitation.unit,
            "needs_guardian": actions.needs_guardian(invitation),
        },
        status=status,
    )


@never_cache
@idempotent("selfservice.begin")
@require_POST
def begin(request: HttpRequest, token: str) -> HttpResponse:
    limited = _limited(request)
    if limited:
        return limited
    try:
        invitation = actions.find_invitation(token)
    except actions.InvitationUnavailable as exc:
        return _unavailable(request, exc.reason)
    form = StartForm(request.POST, personal=invitation.is_personal)
    if not form.is_valid():
        return _consent_page(request, token, invitation, form, status=400)
    key = _resume_key(request, invitation)
    if not actions.resumable(invitation, key):
        if not hit(
            cache,
            scope=f"selfservice-start:{invitation.pk}",
            subject=client_ip(request) or "unknown",
            limit=settings.XINQIAO_SELF_SERVICE_STARTS_PER_HOUR,
            window_seconds=3600,
        ):
            return render(request, "selfservice/message.html", {"kind": "rate_limited"}, status=429)
        key = secrets.token_urlsafe(24)
    try:
        actions.begin_self_assessment(
            invitation=invitation,
            respondent=form.cleaned_data["respondent"],
            guardian_name=form.cleaned_data.get("guardian_name", ""),
            resume_key=key,
            language=_language(),
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _consent_page(request, token, invitation, form, status=400)
    except actions.InvitationUnavailable as exc:
        return _unavailable(request, exc.reason)
    response = redirect("selfservice:start", token=token)
    _remember(response, request, invitation, token, key)
    return response


def _mine(request: HttpRequest, token: str) -> tuple[Invitation, Assessment] | HttpResponse:
    try:
        invitation = actions.find_invitation(token)
    except actions.InvitationUnavailable as exc:
        if exc.reason == "used":
            return redirect("selfservice:done", token=token)
        return _unavailable(request, exc.reason)
    assessment = actions.resumable(invitation, _resume_key(request, invitation))
    if assessment is None:
        return redirect("selfservice:start", token=token)
    return invitation, assessment


@never_cache
@idempotent("selfservice.answer")
@require_POST
def answer(request: HttpRequest, token: str) -> HttpResponse:
    limited = _limited(request)
    if limited:
        return limited
    found = _mine(request, token)
    if isinstance(found, HttpResponse):
        return found
    _invitation, assessment = found
    posted = posted_answer(request.POST)
    if posted is None:
        return _question(request, token, assessment, error=_("Choose one of the answers."))
    try:
        assessment = actions.save_answer(assessment=assessment, **posted)
    except ValidationError as exc:
        return _question(request, token, assessment, error=" ".join(exc.messages))
    if assessment.status == AssessmentStatus.COMPLETED:  # the last answer finished it
        return redirect("selfservice:done", token=token)
    return redirect("selfservice:start", token=token)


@never_cache
@idempotent("selfservice.back")
@require_POST
def back(request: HttpRequest, token: str) -> HttpResponse:
    limited = _limited(request)
    if limited:
        return limited
    found = _mine(request, token)
    if isinstance(found, HttpResponse):
        return found
    actions.step_back(assessment=found[1])
    return redirect("selfservice:start", token=token)


def _finish(request: HttpRequest, token: str, assessment: Assessment) -> HttpResponse:
    try:
        actions.finish_self_assessment(assessment=assessment)
    except ValidationError:
        return _question(request, token, assessment, error=_("Please answer this question."))
    return redirect("selfservice:done", token=token)


@never_cache
def done(request: HttpRequest, token: str) -> HttpResponse:
    """The result page. Found through the resume key, so only the respondent's browser shows
    it; elsewhere a finished link just says thank you."""
    limited = _limited(request)
    if limited:
        return limited
    invitation = actions.invitation_by_token(token)
    if invitation is None:
        return _unavailable(request, "unknown")
    key = _resume_key(request, invitation)
    assessment = None
    if key:
        assessment = Assessment.objects.filter(
            invitation=invitation,
            resume_digest=digest_token(key),
            status=AssessmentStatus.COMPLETED,
        ).first()
    if assessment is None:
        return _unavailable(request, "used")
    return render(
        request,
        "selfservice/done.html",
        {"message": respondent_message(assessment), "unit": invitation.unit},
    )
