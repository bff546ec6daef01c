"""Pages of the risk part: alerts, the key-person list, reports of concern, levels, the
response matrix. Each reads top to bottom: access → act → respond."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.notify.models import Notification
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, require, require_confidentiality_agreement, scoped
from xinqiao.people.access import access_person
from xinqiao.risk import actions, response, smi, smi_actions
from xinqiao.risk.access import (
    access_alert,
    access_smi_patient,
    alerts_in_scope,
    key_people,
    open_alerts,
)
from xinqiao.risk.forms import (
    ConcernForm,
    ContactForm,
    LevelForm,
    OutcomeForm,
    ResponseForm,
    SmiFollowUpForm,
    SmiRegisterForm,
)
from xinqiao.risk.models import (
    Alert,
    AlertStatus,
    PersonRisk,
    RequiredAction,
    RiskLevel,
    RiskSignal,
    SmiPatient,
)
from xinqiao.workbench.forms import apply_errors, person_form_page, report, submit
from xinqiao.workbench.pdf import pdf_response


def _require_view(request: HttpRequest) -> None:
    if not can(request.user, Action.ALERT_VIEW):
        raise Http404
    require_confidentiality_agreement(request.user)


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    status = request.GET.get("status", "active")
    alerts = open_alerts(request.user) if status == "active" else alerts_in_scope(request.user)
    if status in AlertStatus.values:
        alerts = alerts.filter(status=status)
    page = Paginator(alerts.order_by("level", "-created_at"), 50).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="risk.alert")
    return render(
        request,
        "risk/alerts.html",
        {"page": page, "status": status, "statuses": AlertStatus.choices, "now": timezone.now()},
    )


@login_required
def open_alerts_partial(request: HttpRequest) -> HttpResponse:
    """The workbench's live list of active alerts (polled by HTMX)."""
    if not can(request.user, Action.ALERT_VIEW):
        raise Http404
    require_confidentiality_agreement(request.user)
    return render(
        request,
        "risk/_open_alerts.html",
        {"alerts": open_alerts(request.user)[:20], "now": timezone.now()},
    )


@login_required
def alert_detail(request: HttpRequest, alert_id: Any) -> HttpResponse:
    alert = access_alert(request.user, alert_id)
    log_access(request, alert)
    notifications = Notification.objects.filter(
        object_type="risk.alert", object_id=str(alert.pk)
    ).select_related("recipient")
    policy = actions.response_for(alert.person.unit, alert.level)
    can_handle = can(request.user, Action.ALERT_HANDLE, alert.person.unit) or (
        alert.escalated_to is not None
        and can(request.user, Action.ALERT_HANDLE, alert.escalated_to)
    )
    return render(
        request,
        "risk/alert.html",
        {
            "alert": alert,
            "person": alert.person,
            "events": alert.events.select_related("actor", "unit"),
            "notifications": notifications,
            "signals": RiskSignal.objects.filter(person=alert.person)[:10],
            "risk": PersonRisk.objects.filter(person=alert.person).first(),
            "required_action": RequiredAction(policy.action).label,
            "can_handle": can_handle and alert.is_active,
            "can_refer": can(request.user, Action.REFERRAL_SEND, alert.person.unit),
            "contact_form": ContactForm(),
            "outcome_form": OutcomeForm(),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: Any) -> HttpResponse:
    alert = access_alert(request.user, alert_id)
    report(
        request,
        lambda: actions.acknowledge_alert(acting_user=request.user, alert=alert),
        _("Alert acknowledged: it is yours now."),
    )
    return redirect("risk:alert", alert_id=alert.pk)


@login_required
@require_POST
def alert_contact(request: HttpRequest, alert_id: Any) -> HttpResponse:
    alert = access_alert(request.user, alert_id)
    form = ContactForm(request.POST)
    submit(
        request,
        form,
        lambda data: actions.record_contact(
            acting_user=request.user, alert=alert, mode=data["mode"], note=data["note"]
        ),
        _("Contact recorded."),
    )
    _form_errors_as_messages(request, form)
    return redirect("risk:alert", alert_id=alert.pk)


@login_required
@require_POST
def alert_resolve(request: HttpRequest, alert_id: Any) -> HttpResponse:
    alert = access_alert(request.user, alert_id)
    form = OutcomeForm(request.POST)
    done = submit(
        request,
        form,
        lambda data: actions.resolve_alert(
            acting_user=request.user, alert=alert, outcome=data["outcome"]
        ),
        _("Alert resolved."),
    )
    if done is None:
        _form_errors_as_messages(request, form)
    return redirect("risk:alert", alert_id=alert.pk)


def _form_errors_as_messages(request: HttpRequest, form: Any) -> None:
    """Forms posted from the alert page report their problems on it, by field."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def report_context(alert: Alert, viewer: Any) -> dict[str, Any]:
    """What the crisis report shows ``viewer``: the person's name only if their role may open
    the file, a pseudonymous case number otherwise (R-PRIVACY)."""
    person = alert.person
    return {
        "alert": alert,
        "named": can(viewer, Action.PERSON_VIEW, person.unit),
        "person": person,
        "age": person.age(timezone.localdate()),
        "pseudonym": f"#{alert.pk.hex[:8].upper()}",
        "community": actions.community_of(alert.unit),
        "street": alert.unit.ancestors().filter(kind=UnitKind.STREET).first(),
        "events": alert.events.select_related("actor", "unit"),
        "signal": alert.signal,
        "hotline_number": settings.XINQIAO_HOTLINE_NUMBER,
        "generated": timezone.now(),
        "viewer": viewer,
    }


@login_required
def alert_report(request: HttpRequest, alert_id: Any) -> HttpResponse:
    """The one-page crisis report to the street office (issue #5 item 10): what happened,
    when, who acted, the outcome."""
    alert = access_alert(request.user, alert_id)
    log_access(request, alert, kind=AccessKind.EXPORT)
    return pdf_response(
        request,
        "risk/report_pdf.html",
        report_context(alert, request.user),
        f"crisis-report-{alert.pk.hex[:8]}.pdf",
    )


@login_required
def key_person_list(request: HttpRequest) -> HttpResponse:
    """重点人群: levels 1–2, per community and grid, with who is responsible and when the next
    contact is due (overdue first)."""
    _require_view(request)
    people = key_people(request.user)
    unit_id = request.GET.get("unit")
    units = scoped(
        Unit.objects.filter(is_active=True, kind__in=[UnitKind.COMMUNITY, UnitKind.GRID]),
        request.user,
        Action.ALERT_VIEW,
    )
    chosen = units.filter(pk=unit_id).first() if unit_id else None
    if chosen is not None:
        people = people.filter(unit__path__startswith=chosen.path)
    people = people.select_related("followup_plan")
    page = Paginator(people.order_by("risk__level", "name"), 100).get_page(request.GET.get("page"))
    for person in page:
        # The follow-up plan is the one source of "next due" (xinqiao.followups).
        plan = getattr(person, "followup_plan", None)
        person.next_due = plan.next_due if plan else None  # type: ignore[attr-defined]
    log_access(request, None, kind=AccessKind.LIST, object_type="risk.personrisk")
    return render(
        request,
        "risk/key_people.html",
        {"page": page, "units": units, "chosen": chosen, "today": timezone.localdate()},
    )


@login_required
def concern_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.CONCERN_REPORT, person.unit)
    form = ConcernForm(request.POST or None)
    done = submit(
        request,
        form,
        lambda data: actions.report_concern(
            acting_user=request.user,
            person=person,
            behaviours=data["behaviours"],
            note=data["note"],
        ),
        _("Thank you: the report is recorded and the counsellors are told."),
    )
    if done is not None:
        return redirect("people:detail", person_id=person.pk)
    return person_form_page(request, person, form, _("Report a concern"))


@login_required
def level_set(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.RISK_LEVEL_SET, person.unit)
    current = PersonRisk.objects.filter(person=person).first()
    form = LevelForm(request.POST or None, initial={"level": current.level if current else 4})
    done = submit(
        request,
        form,
        lambda data: actions.set_risk_level(
            acting_user=request.user, person=person, level=data["level"], reason=data["reason"]
        ),
        _("Risk level changed."),
    )
    if done is not None:
        return redirect("people:detail", person_id=person.pk)
    return person_form_page(request, person, form, _("Change the risk level"))


@login_required
def response_matrix(request: HttpRequest) -> HttpResponse:
    """The city's four-level response (四级响应): defaults, and the city's own settings."""
    require(request.user, Action.RESPONSE_CONFIGURE)
    cities = scoped(
        Unit.objects.filter(kind=UnitKind.CITY), request.user, Action.RESPONSE_CONFIGURE
    )
    wanted = request.GET.get("city") or request.POST.get("city") or ""
    city = (cities.filter(pk=wanted).first() if wanted else None) or cities.first()
    if city is None:
        raise Http404
    current = {level: actions.response_for(city, level) for level in (1, 2, 3, 4)}
    forms = []
    saved = False
    for level in (1, 2, 3, 4):
        row = current[level]
        form = ResponseForm(
            request.POST or None,
            level=level,
            initial={
                "alert": row.alert,
                "ack_minutes": row.ack_minutes,
                "notify_team": row.notify_team,
                "notify_street": row.notify_street,
                "action": row.action,
                "followup_days": row.followup_days,
            },
        )
        forms.append((RiskLevel(level).label, response.DEFAULT_MATRIX[level], form))
    if request.method == "POST" and all(f.is_valid() for _l, _d, f in forms):
        try:
            with transaction.atomic():
                for _label, _default, form in forms:
                    actions.set_response(
                        acting_user=request.user, city=city, level=form.level, **form.cleaned_data
                    )
        except ValidationError as exc:
            for _label, _default, form in forms:
                apply_errors(form, exc)
        else:
            saved = True
    if saved:
        messages.success(request, _("Response matrix saved."))
        return redirect(f"{request.path}?city={city.pk}")
    return render(
        request,
        "risk/response.html",
        {"city": city, "cities": cities, "forms": forms, "actions": dict(RequiredAction.choices)},
    )


# --- severe mental disorders ---------------------------------------------------------------


@login_required
def smi_list(request: HttpRequest) -> HttpResponse:
    _require_view(request)
    patients = scoped(
        SmiPatient.objects.select_related("person__unit__parent"), request.user, Action.ALERT_VIEW
    ).filter(person__status="active")
    page = Paginator(patients.order_by("next_followup_due"), 100).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="risk.smipatient")
    return render(request, "risk/smi_list.html", {"page": page, "today": timezone.localdate()})


@login_required
def smi_register(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.SMI_MANAGE, person.unit)
    form = SmiRegisterForm(request.POST or None)
    patient = submit(
        request,
        form,
        lambda data: smi_actions.register_smi_patient(
            acting_user=request.user,
            person=person,
            diagnosis=data["diagnosis"],
            diagnosed_on=data["diagnosed_on"],
            guardian_name=data["guardian_name"],
            guardian_phone=data["guardian_phone"],
            custody=form.custody(),
        ),
        _("Registered for management. The first follow-up is due within two weeks."),
    )
    if patient is not None:
        return redirect("risk:smi", person_id=person.pk)
    return person_form_page(request, person, form, _("Register a severe mental disorder"))


@login_required
def smi_detail(request: HttpRequest, person_id: Any) -> HttpResponse:
    patient = access_smi_patient(request.user, person_id)
    log_access(request, patient)
    today = timezone.localdate()
    can_manage = can(request.user, Action.SMI_MANAGE, patient.person.unit)
    form = SmiFollowUpForm(initial={"on": today})
    return render(
        request,
        "risk/smi_detail.html",
        {
            "patient": patient,
            "person": patient.person,
            "custody": patient.custody.all(),
            "followups": patient.followups.select_related("recorded_by")[:50],
            "last_year": smi_actions.followups_in_last_year(patient, today),
            "minimum": smi.MIN_FOLLOWUPS_PER_YEAR,
            "today": today,
            "form": form if can_manage else None,
            "can_refer": can(request.user, Action.REFERRAL_SEND, patient.person.unit),
        },
    )


@login_required
@require_POST
def smi_followup(request: HttpRequest, person_id: Any) -> HttpResponse:
    patient = access_smi_patient(request.user, person_id)
    require(request.user, Action.SMI_MANAGE, patient.person.unit)
    form = SmiFollowUpForm(request.POST)
    followup = submit(
        request,
        form,
        lambda data: smi_actions.record_smi_followup(
            acting_user=request.user, patient=patient, **data
        ),
        _("Follow-up recorded."),
    )
    if followup is None:
        _form_errors_as_messages(request, form)
    elif followup.status == "unstable":
        messages.warning(
            request,
            _("Unstable: refer the patient to a higher hospital now (green channel)."),
        )
    return redirect("risk:smi", person_id=patient.pk)
