"""Staff pages of assessments. Each reads top to bottom: access → act → respond."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinqiao.assessments import actions, printing
from xinqiao.assessments.access import (
    access_assessment,
    access_campaign,
    access_invitation,
    assessments_in_scope,
    campaigns_in_scope,
    suppress,
)
from xinqiao.assessments.forms import (
    AdministerForm,
    CampaignForm,
    InstrumentForm,
    InviteForm,
    ReasonForm,
)
from xinqiao.assessments.interpretation import CRITICAL_ADVICE, STAFF_ADVICE
from xinqiao.assessments.models import (
    Assessment,
    AssessmentStatus,
    Campaign,
    CampaignStatus,
    Intervention,
    Invitation,
)
from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.instruments.library import get, library
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, require, require_confidentiality_agreement, scoped
from xinqiao.people.access import ConsentMissing, access_person, has_consent, people_in_scope
from xinqiao.people.models import ConsentPurpose, FileStatus, Person
from xinqiao.reports.cells import suppress_table
from xinqiao.workbench.forms import apply_errors, person_form_page, report, submit
from xinqiao.workbench.pdf import pdf_response


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def _instrument_or_404(code: str) -> Any:
    if code not in library():
        raise Http404
    return get(code)


@login_required
def assessment_list(request: HttpRequest) -> HttpResponse:
    """Recent results in the user's area; serious ones first to the eye (R-ASSESS)."""
    if not can(request.user, Action.ASSESSMENT_VIEW):
        raise Http404
    require_confidentiality_agreement(request.user)
    results = assessments_in_scope(request.user).exclude(status=AssessmentStatus.IN_PROGRESS)
    instrument = request.GET.get("instrument", "")
    if instrument in library():
        results = results.filter(instrument=instrument)
    serious = request.GET.get("serious") == "1"
    if serious:
        results = results.filter(
            Q(intervention__in=[Intervention.INDIVIDUAL, Intervention.URGENT])
            | ~Q(critical_items=[])
        )
    page = Paginator(results.order_by("-completed_at"), 50).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="assessments.assessment")
    return render(
        request,
        "assessments/list.html",
        {
            "page": page,
            "instruments": sorted(library().items()),
            "instrument": instrument,
            "serious": serious,
        },
    )


@login_required
def assessment_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.ASSESSMENT_ADMINISTER, person.unit)
    form = InstrumentForm(request.GET or None)
    if form.is_valid():
        return redirect(
            "assessments:administer", person_id=person.pk, code=form.cleaned_data["instrument"]
        )
    return render(request, "assessments/new.html", {"person": person, "form": form})


@login_required
def assessment_administer(request: HttpRequest, person_id: Any, code: str) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.ASSESSMENT_ADMINISTER, person.unit)
    instrument = _instrument_or_404(code)
    log_access(request, person)
    consented = has_consent(person, ConsentPurpose.ASSESSMENT)
    form = AdministerForm(request.POST or None, instrument=instrument)
    if consented and request.method == "POST" and form.is_valid():
        try:
            assessment = actions.record_assessment(
                acting_user=request.user,
                person=person,
                instrument=instrument.code,
                answers=form.cleaned_data["answers"],
                language=get_language() or "zh-hans",
            )
        except ConsentMissing as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Assessment saved and scored."))
            return redirect("assessments:detail", assessment_id=assessment.pk)
    return render(
        request,
        "assessments/administer.html",
        {
            "person": person,
            "instrument": instrument,
            "name": instrument.zh if _zh() else instrument.en,
            "instructions": (instrument.meta.get("instructions") or {}).get(
                "zh" if _zh() else "en", ""
            ),
            "form": form,
            "consented": consented,
            "consent_missing": "" if consented else str(ConsentMissing(ConsentPurpose.ASSESSMENT)),
            "age_warning": actions.age_warning(instrument, person),
        },
    )


def _history(assessment: Assessment) -> list[Assessment]:
    if assessment.person is None:
        return [assessment]
    return list(
        Assessment.objects.filter(
            person=assessment.person,
            instrument=assessment.instrument,
            status=AssessmentStatus.COMPLETED,
        ).order_by("completed_at")[:50]
    )


@login_required
def assessment_detail(request: HttpRequest, assessment_id: Any) -> HttpResponse:
    assessment = access_assessment(request.user, assessment_id)
    log_access(request, assessment)
    instrument = assessment.instrument_definition
    band = assessment.band
    history = _history(assessment)
    label = "zh" if _zh() else "en"
    chart = {
        "kind": "line",
        "x": [a.completed_at.astimezone().strftime("%Y-%m-%d") for a in history if a.completed_at],
        "series": [{"name": instrument.code.upper(), "data": [a.total for a in history]}],
        "y_max": instrument.total_range()[1],
    }
    person = assessment.person
    return render(
        request,
        "assessments/detail.html",
        {
            "assessment": assessment,
            "person": person,
            "instrument": instrument,
            "name": instrument.zh if _zh() else instrument.en,
            "band_label": getattr(band, label, "") if band else "",
            "bands": [
                {"low": b.low, "high": b.high, "label": getattr(b, label), "current": b == band}
                for b in instrument.bands
            ],
            "advice": STAFF_ADVICE.get(assessment.intervention, ""),
            "critical_advice": CRITICAL_ADVICE if assessment.critical_items else "",
            "rows": assessment.answer_rows(label),
            "subscales": [
                {
                    "label": getattr(s, label),
                    "score": assessment.subscales.get(s.code, {}).get("score"),
                    "items": ", ".join(str(n) for n in s.items),
                }
                for s in instrument.subscales
            ],
            "history": history,
            "chart": chart,
            "repeat_days": instrument.meta.get("repeat_interval_days"),
            "citation": instrument.meta.get("bands_citation"),
            "can_withdraw": person is not None
            and assessment.status == AssessmentStatus.COMPLETED
            and can(request.user, Action.ASSESSMENT_ADMINISTER, person.unit),
        },
    )


@login_required
def assessment_withdraw(request: HttpRequest, assessment_id: Any) -> HttpResponse:
    assessment = access_assessment(request.user, assessment_id)
    if assessment.person is None:
        raise Http404
    require(request.user, Action.ASSESSMENT_ADMINISTER, assessment.person.unit)
    form = ReasonForm(request.POST or None)
    done = submit(
        request,
        form,
        lambda data: actions.mark_entered_in_error(
            acting_user=request.user, assessment=assessment, reason=data["reason"]
        ),
        _("The result is marked as entered in error."),
    )
    if done is not None:
        return redirect("assessments:detail", assessment_id=assessment.pk)
    return person_form_page(request, assessment.person, form, _("Withdraw a result"))


# --- invitations -------------------------------------------------------------------------


@login_required
def invitation_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.ASSESSMENT_INVITE, person.unit)
    form = InviteForm(request.POST or None)
    invitation = submit(
        request,
        form,
        lambda data: actions.invite_person(
            acting_user=request.user,
            person=person,
            instrument=data["instrument"],
            valid_days=data["valid_days"],
        ),
        _("Link created. Give it to the person, or let them scan the QR code."),
    )
    if invitation is not None:
        return redirect("assessments:invitation", invitation_id=invitation.pk)
    return person_form_page(request, person, form, _("Send a self-assessment link"))


def _invitation_state(invitation: Invitation) -> str:
    try:
        actions.find_invitation(invitation.token)
    except actions.InvitationUnavailable as exc:
        return exc.reason
    return "usable"


@login_required
def invitation_detail(request: HttpRequest, invitation_id: Any) -> HttpResponse:
    invitation = access_invitation(request.user, invitation_id)
    log_access(request, invitation)
    link = printing.public_link(request, invitation)
    instrument = invitation.instrument_definition
    return render(
        request,
        "assessments/invitation.html",
        {
            "invitation": invitation,
            "link": link,
            "qr": printing.qr_svg(link),
            "state": _invitation_state(invitation),
            "name": instrument.zh if _zh() else instrument.en,
            "assessments": invitation.assessments.all()[:1] if invitation.person_id else [],
        },
    )


@login_required
def invitation_qr(request: HttpRequest, invitation_id: Any, fmt: str) -> HttpResponse:
    invitation = access_invitation(request.user, invitation_id)
    log_access(request, invitation, kind=AccessKind.EXPORT)
    link = printing.public_link(request, invitation)
    if fmt == "png":
        response = HttpResponse(printing.qr_png(link), content_type="image/png")
    elif fmt == "svg":
        response = HttpResponse(printing.qr_svg_file(link), content_type="image/svg+xml")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="xinqiao-qr.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


def _sheet_cards(request: HttpRequest, invitations: list[Invitation]) -> list[dict[str, Any]]:
    cards = []
    for invitation in invitations:
        link = printing.public_link(request, invitation)
        cards.append(
            {
                "name": invitation.person.name if invitation.person is not None else "",
                "qr": printing.qr_svg(link, scale=5),
                "link": link,
                "expires": invitation.expires_at,
            }
        )
    return cards


def _sheet_response(request: HttpRequest, context: dict[str, Any], filename: str) -> HttpResponse:
    instrument = get(context["instrument_code"])
    context.update(
        {
            "name": instrument.zh if _zh() else instrument.en,
            "hotline_number": settings.XINQIAO_HOTLINE_NUMBER,
            "LANGUAGE_CODE": get_language(),
        }
    )
    return pdf_response(request, "assessments/sheet_pdf.html", context, filename)


@login_required
def invitation_sheet(request: HttpRequest, invitation_id: Any) -> HttpResponse:
    invitation = access_invitation(request.user, invitation_id)
    log_access(request, invitation, kind=AccessKind.EXPORT)
    return _sheet_response(
        request,
        {
            "title": invitation.campaign.title if invitation.campaign else "",
            "unit": invitation.unit,
            "instrument_code": invitation.instrument,
            "cards": _sheet_cards(request, [invitation]),
        },
        "xinqiao-invitation.pdf",
    )


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: Any) -> HttpResponse:
    invitation = access_invitation(request.user, invitation_id)
    report(
        request,
        lambda: actions.revoke_invitation(acting_user=request.user, invitation=invitation),
        _("The link no longer works."),
    )
    return redirect("assessments:invitation", invitation_id=invitation.pk)


# --- campaigns ---------------------------------------------------------------------------


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.CAMPAIGN_VIEW):
        raise Http404
    campaigns = campaigns_in_scope(request.user).order_by("-created_at")
    page = Paginator(campaigns, 50).get_page(request.GET.get("page"))
    counts = _counts([c.pk for c in page])
    rows = [{"campaign": c, **counts.get(c.pk, {})} for c in page]
    return render(
        request,
        "assessments/campaigns.html",
        {"page": page, "rows": rows, "can_create": can(request.user, Action.ASSESSMENT_INVITE)},
    )


def _counts(campaign_ids: list[Any]) -> dict[Any, dict[str, int]]:
    rows = (
        Assessment.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(
            started=Count("id"),
            completed=Count("id", filter=~Q(status=AssessmentStatus.IN_PROGRESS)),
        )
        .order_by()
    )
    return {r["campaign_id"]: {"started": r["started"], "completed": r["completed"]} for r in rows}


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.ASSESSMENT_INVITE)
    units = scoped(Unit.objects.filter(is_active=True), request.user, Action.ASSESSMENT_INVITE)
    form = CampaignForm(request.POST or None, units=units)

    def save(data: dict[str, Any]) -> Campaign:
        people: list[Person] = []
        if not data["anonymous"]:
            require_confidentiality_agreement(request.user)
            unit = data["unit"]
            chosen = people_in_scope(request.user).filter(
                status=FileStatus.ACTIVE, unit__path__startswith=unit.path
            )
            if data["group"]:
                today = timezone.localdate()
                chosen = chosen.filter(
                    groups__group=data["group"], groups__date_from__lte=today
                ).exclude(groups__date_to__lt=today)
            people = list(chosen.distinct().select_related("unit"))
        return actions.create_campaign(
            acting_user=request.user,
            unit=data["unit"],
            title=data["title"],
            instrument=data["instrument"],
            closes_on=data["closes_on"],
            anonymous=data["anonymous"],
            expected_count=data["expected_count"],
            people=people,
        )

    campaign = submit(request, form, save, _("Campaign created."))
    if campaign is not None:
        return redirect("assessments:campaign", campaign_id=campaign.pk)
    return render(request, "assessments/campaign_form.html", {"form": form})


@login_required
def campaign_detail(request: HttpRequest, campaign_id: Any) -> HttpResponse:
    campaign = access_campaign(request.user, campaign_id)
    log_access(request, campaign)
    instrument = campaign.instrument_definition
    label = "zh" if _zh() else "en"
    done = Assessment.objects.filter(campaign=campaign, status=AssessmentStatus.COMPLETED)
    counts = _counts([campaign.pk]).get(campaign.pk, {"started": 0, "completed": 0})
    by_band = Counter(done.values_list("band_code", flat=True))
    critical = done.exclude(critical_items=[]).count()
    # Complementary suppression: the number completed is shown, so one hidden band alone
    # could be worked out by subtraction (xinqiao.reports.cells).
    shown = suppress_table(
        [[by_band[b.code]] for b in instrument.bands],
        threshold=settings.XINQIAO_SMALL_CELL_THRESHOLD,
    )
    bands = [
        {"label": getattr(b, label), "range": f"{b.low}–{b.high}", "n": shown.cells[k][0]}
        for k, b in enumerate(instrument.bands)
    ]
    chart = {
        "kind": "bar",
        "x": [b["label"] for b in bands],
        "series": [{"name": _("Completed"), "data": [b["n"] for b in bands]}],
    }
    open_link = None
    invitations: list[Invitation] = []
    if campaign.anonymous:
        open_link = campaign.invitations.first()
    elif can(request.user, Action.PERSON_VIEW, campaign.unit):
        require_confidentiality_agreement(request.user)
        invitations = list(
            campaign.invitations.filter(person__in=people_in_scope(request.user))
            .select_related("person")
            .order_by("person__name")[:500]
        )
    link = printing.public_link(request, open_link) if open_link else ""
    return render(
        request,
        "assessments/campaign.html",
        {
            "campaign": campaign,
            "name": getattr(instrument, label),
            "invited": campaign.expected_count or 0,
            "started": counts["started"],
            "completed": counts["completed"],
            "bands": bands,
            "critical": suppress(critical),
            "threshold": settings.XINQIAO_SMALL_CELL_THRESHOLD,
            "chart": chart,
            "open_link": open_link,
            "link": link,
            "qr": printing.qr_svg(link) if link else "",
            "invitations": invitations,
            "can_manage": campaign.status == CampaignStatus.OPEN
            and can(request.user, Action.ASSESSMENT_INVITE, campaign.unit),
        },
    )


@login_required
def campaign_sheet(request: HttpRequest, campaign_id: Any) -> HttpResponse:
    campaign = access_campaign(request.user, campaign_id, Action.ASSESSMENT_INVITE)
    log_access(request, campaign, kind=AccessKind.EXPORT)
    invitations = campaign.invitations.select_related("person").order_by("person__name")
    if not campaign.anonymous:
        require_confidentiality_agreement(request.user)
        invitations = invitations.filter(person__in=people_in_scope(request.user))
    return _sheet_response(
        request,
        {
            "title": campaign.title,
            "unit": campaign.unit,
            "instrument_code": campaign.instrument,
            "cards": _sheet_cards(request, list(invitations[:2000])),
            "poster": campaign.anonymous,
        },
        "xinqiao-campaign.pdf",
    )


@login_required
@require_POST
def campaign_close(request: HttpRequest, campaign_id: Any) -> HttpResponse:
    campaign = access_campaign(request.user, campaign_id)
    report(
        request,
        lambda: actions.close_campaign(acting_user=request.user, campaign=campaign),
        _("Campaign closed: its links no longer work."),
    )
    return redirect("assessments:campaign", campaign_id=campaign.pk)
