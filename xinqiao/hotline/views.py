"""Staff pages of the hotline's calls and roster (R-HOTLINE): the roster of a centre with its
cover warning, the call list, the fast call form, a call's page, person search for the form."""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinqiao.accounts.models import User
from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.hotline import actions, callrisk, categories, roster
from xinqiao.hotline.access import (
    access_call,
    access_seat,
    access_shift,
    calls_in_scope,
    may_open_person,
    may_read_notes,
    read_notes,
)
from xinqiao.hotline.callback_views import access_callback
from xinqiao.hotline.callbacks import link_call
from xinqiao.hotline.forms import RISK_QUESTIONS, CallForm, SeatForm, ShiftForm, TrainingForm
from xinqiao.hotline.models import (
    AgeBand,
    CallerType,
    CallReferral,
    HotlineTraining,
    Intervention,
    Seat,
    Shift,
    TextRisk,
)
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, has_confidentiality_agreement
from xinqiao.people.access import people_in_scope
from xinqiao.people.actions import document_or_phone_q
from xinqiao.people.models import FileStatus, Sex, TargetGroup

PAGE = 50
# Fields of the call form whose element has the id "f-<name>" (for the error summary's links).
ANCHORED = {
    "caller_type",
    "caller_sex",
    "age_band",
    "caller_group",
    "area",
    "problems",
    "risk",
    "interventions",
    "referral",
    "callback_at",
    "callback_phone",
    "notes",
    "person",
    "started_at",
    "ended_at",
    "centre",
}
SEARCH_RESULTS = 8


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def _pick(centres: list[Unit], chosen: str | None) -> Unit:
    if chosen:
        for centre in centres:
            if str(centre.pk) == chosen:
                return centre
    return centres[0]


# --- cover ---------------------------------------------------------------------------------


def week_cover(centre: Unit, now: datetime | None = None) -> list[roster.DayCover]:
    """The next 7 days of ``centre`` from now (Asia/Shanghai days), from its active seats."""
    start = timezone.localtime(now or timezone.now()).replace(microsecond=0)
    end = datetime.combine(
        start.date() + timedelta(days=roster.WARNING_DAYS), time.min, tzinfo=start.tzinfo
    )
    shifts = Shift.objects.filter(
        seat__centre=centre, seat__is_active=True, ends_at__gt=start, starts_at__lt=end
    )
    pairs = [(timezone.localtime(s.starts_at), timezone.localtime(s.ends_at)) for s in shifts]
    return roster.cover(pairs, start)


def cover_warning(centre: Unit) -> dict[str, Any] | None:
    days = week_cover(centre)
    gaps = [(day.day, start, end) for day in days for start, end in day.gaps]
    if not gaps:
        return None
    return {"centre": centre, "gaps": gaps}


# --- roster --------------------------------------------------------------------------------


def _centre_staff(centre: Unit) -> list[User]:
    ids = Membership.objects.filter(
        unit__path__startswith=centre.path, unit__is_active=True, user__is_active=True
    ).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("username"))


def _field_errors(errors: Any) -> dict[str, list[str]]:
    return {("general" if k == "__all__" else k): [str(m) for m in v] for k, v in errors.items()}


def _roster_post(request: HttpRequest, centre: Unit) -> dict[str, list[str]]:
    """Handle one of the roster's forms; its errors by field ("general" for the form)."""
    kind = request.POST.get("form", "")
    staff = {str(u.pk): u for u in _centre_staff(centre)}
    try:
        if kind == "seat":
            form: Any = SeatForm(request.POST, prefix="seat")
            if not form.is_valid():
                return _field_errors(form.errors)
            actions.add_seat(
                acting_user=request.user, centre=centre, name=form.cleaned_data["name"]
            )
        elif kind == "shift":
            form = ShiftForm(request.POST, prefix="shift")
            if not form.is_valid():
                return _field_errors(form.errors)
            d = form.cleaned_data
            seat = Seat.objects.filter(centre=centre, pk=d["seat"]).first()
            if seat is None:
                return {"seat": [_("Choose a seat of this centre.")]}
            actions.add_shift(
                acting_user=request.user,
                seat=seat,
                operator=staff.get(str(d["operator"])),
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
            )
        elif kind == "training":
            form = TrainingForm(request.POST, prefix="training")
            if not form.is_valid():
                return _field_errors(form.errors)
            d = form.cleaned_data
            actions.record_training(
                acting_user=request.user,
                centre=centre,
                operator=staff.get(str(d["operator"])),
                course=d["course"],
                completed_on=d["completed_on"],
                valid_until=d["valid_until"],
            )
        else:
            return {"general": [_("Unknown form.")]}
    except ValidationError as exc:
        return _field_errors(_errors(exc))
    return {}


@login_required
def roster_page(request: HttpRequest) -> HttpResponse:
    """The coming 7 days per seat, the gaps in 24-hour cover, seats, shifts and trainings."""
    centres = actions.centres_for(request.user, Action.HOTLINE_CALL_VIEW)
    if not centres:
        raise Http404
    centre = _pick(centres, request.GET.get("centre") or request.POST.get("centre"))
    manage = can(request.user, Action.HOTLINE_ROSTER, centre)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not manage:
            raise PermissionDenied(_("You do not have permission to do this."))
        errors = _roster_post(request, centre)
        if not errors:
            return redirect(reverse("hotline:roster") + f"?centre={centre.pk}&saved=1")
    now = timezone.localtime().replace(microsecond=0)
    days = week_cover(centre, now)
    zone = now.tzinfo
    seats = list(Seat.objects.filter(centre=centre).order_by("-is_active", "name"))
    week_end = datetime.combine(days[-1].day + timedelta(days=1), time.min, tzinfo=zone)
    shifts = list(
        Shift.objects.filter(seat__centre=centre, ends_at__gt=now, starts_at__lt=week_end)
        .select_related("operator", "seat")
        .order_by("starts_at")
    )
    grid = []
    for seat in seats:
        cells = []
        for day in days:
            d0 = datetime.combine(day.day, time.min, tzinfo=zone)
            d1 = d0 + timedelta(days=1)
            cells.append(
                [
                    {
                        "shift": s,
                        "start": max(timezone.localtime(s.starts_at), d0),
                        "end": min(timezone.localtime(s.ends_at), d1),
                        "to_midnight": timezone.localtime(s.ends_at) >= d1,
                    }
                    for s in shifts
                    if s.seat_id == seat.pk and s.starts_at < d1 and s.ends_at > d0
                ]
            )
        grid.append({"seat": seat, "cells": cells})
    today = now.date()
    staff = _centre_staff(centre)
    trained = {u.pk: actions.valid_training(u, centre, today) for u in staff}
    trainings = list(HotlineTraining.objects.filter(centre=centre).select_related("operator")[:200])
    gaps = [(day.day, s, e) for day in days for s, e in day.gaps]
    return render(
        request,
        "hotline/roster.html",
        {
            "centre": centre,
            "centres": centres,
            "manage": manage,
            "days": days,
            "grid": grid,
            "gaps": gaps,
            "short_days": [d for d in days if d.short],
            "minimum": roster.MINIMUM_SEATS,
            "active_seats": sum(1 for s in seats if s.is_active),
            "staff": [{"user": u, "training": trained[u.pk]} for u in staff],
            "trainings": trainings,
            "shifts": shifts,
            "errors": errors,
            "form_errors": {request.POST.get("form", ""): errors} if errors else {},
            "seat_errors": errors if request.POST.get("form") == "seat" else {},
            "shift_errors": errors if request.POST.get("form") == "shift" else {},
            "training_errors": errors if request.POST.get("form") == "training" else {},
            "saved": request.GET.get("saved") == "1",
            "now": now,
        },
    )


@login_required
@require_POST
def seat_active(request: HttpRequest, seat_id: Any) -> HttpResponse:
    seat = access_seat(request.user, seat_id)
    actions.set_seat_active(
        acting_user=request.user, seat=seat, active=request.POST.get("active") == "1"
    )
    return redirect(reverse("hotline:roster") + f"?centre={seat.centre_id}&saved=1")


@login_required
@require_POST
def shift_remove(request: HttpRequest, shift_id: Any) -> HttpResponse:
    shift = access_shift(request.user, shift_id)
    centre_id = shift.seat.centre_id
    actions.remove_shift(acting_user=request.user, shift=shift)
    return redirect(reverse("hotline:roster") + f"?centre={centre_id}&saved=1")


# --- calls ---------------------------------------------------------------------------------


def _warnings_for(user: Any) -> list[dict[str, Any]]:
    """The cover warning of each centre where ``user`` takes calls."""
    result = []
    for centre in actions.centres_for(user, Action.HOTLINE_CALL_LOG)[:3]:
        warning = cover_warning(centre)
        if warning:
            result.append(warning)
    return result


@login_required
def call_list(request: HttpRequest) -> HttpResponse:
    """Calls of the user's centres, newest first; filters by risk and date. No notes."""
    if not can(request.user, Action.HOTLINE_CALL_VIEW):
        raise Http404
    calls = calls_in_scope(request.user).prefetch_related("problems")
    errors: dict[str, str] = {}
    risk = request.GET.get("risk", "")
    if risk:
        if risk in TextRisk.values:
            calls = calls.filter(risk=risk)
        else:
            errors["risk"] = _("Choose a risk level from the list.")
    zone = actions.tz()
    bounds: dict[str, Any] = {}
    for name in ("date_from", "date_to"):
        raw = request.GET.get(name, "").strip()
        if not raw:
            continue
        try:
            day = parse_date(raw)
        except ValueError:
            day = None
        if day is None:
            errors[name] = _("Enter a date like 2026-03-01.")
            continue
        bounds[name] = day
    if "date_from" in bounds:
        calls = calls.filter(
            started_at__gte=datetime.combine(bounds["date_from"], time.min, tzinfo=zone)
        )
    if "date_to" in bounds:
        calls = calls.filter(
            started_at__lt=datetime.combine(
                bounds["date_to"] + timedelta(days=1), time.min, tzinfo=zone
            )
        )
    page = Paginator(calls.order_by("-started_at"), PAGE).get_page(request.GET.get("page"))
    log_access(request, object_type="hotline.call", kind=AccessKind.LIST)
    today = timezone.localdate()
    may_log = any(
        actions.may_log_at(request.user, c, today)
        for c in actions.centres_for(request.user, Action.HOTLINE_CALL_LOG)
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "hotline/call_list.html",
        {
            "page": page,
            "rows": [
                {
                    "call": c,
                    "groups": sorted({categories.label_of(p.group) for p in c.problems.all()}),
                }
                for c in page
            ],
            "risk": risk,
            "date_from": request.GET.get("date_from", ""),
            "date_to": request.GET.get("date_to", ""),
            "risks": TextRisk.choices,
            "errors": errors,
            "may_log": may_log,
            "warnings": _warnings_for(request.user),
            "query": query.urlencode(),
        },
    )


def _streets(centre: Unit) -> list[Unit]:
    root = "/" + centre.path.strip("/").split("/")[0] + "/"
    return list(
        Unit.objects.filter(kind=UnitKind.STREET, is_active=True, path__startswith=root).order_by(
            "name"
        )
    )


def _local_input(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M:%S")


def _options(choices: Any, value: Any) -> list[dict[str, Any]]:
    values = value if isinstance(value, list) else [value]
    values = [str(v) for v in values]
    return [
        {"value": str(k), "label": str(label), "checked": str(k) in values, "n": n}
        for n, (k, label) in enumerate(choices, start=1)
    ]


def _call_context(form: CallForm, request: HttpRequest, centres: list[Unit]) -> dict[str, Any]:
    def val(name: str) -> Any:
        if form.is_bound:
            if name in ("problems", "interventions"):
                return request.POST.getlist(name)
            return form.data.get(name, "")
        return form.initial.get(name, form.fields[name].initial or "")

    person_choice = None
    pid = val("person")
    if pid:
        person_choice = (
            people_in_scope(request.user).filter(pk=pid).first() if _is_uuid(pid) else None
        )
    groups = []
    chosen = set(val("problems"))
    for category in categories.TAXONOMY:
        items = [{"code": category.code, "label": str(category.label), "sub": False}]
        items += [
            {"code": f"{category.code}.{sub}", "label": str(label), "sub": True}
            for sub, label in category.subs
        ]
        for item in items:
            item["checked"] = item["code"] in chosen
            item["full"] = categories.label_of(str(item["code"]))
        groups.append(items)
    return {
        "form": form,
        "centres": centres,
        "centre_value": val("centre") or (str(centres[0].pk) if centres else ""),
        "caller_types": _options(CallerType.choices, val("caller_type")),
        "sexes": _options(Sex.choices, val("caller_sex") or Sex.UNKNOWN),
        "age_bands": _options(AgeBand.choices, val("age_band") or AgeBand.UNKNOWN),
        "risk_levels": _options(TextRisk.choices, val("risk") or TextRisk.NONE),
        "caller_groups": _options(
            [("", _("General public / not known")), *TargetGroup.choices], val("caller_group")
        ),
        "streets": _options(form.fields["area"].choices, val("area")),  # type: ignore[attr-defined]
        "problem_groups": groups,
        "questions": [
            {"name": name, "label": label, "checked": val(name) in ("on", "true", "1", True)}
            for name, label in RISK_QUESTIONS
        ],
        "interventions": _options(Intervention.choices, val("interventions")),
        "referrals": _options(CallReferral.choices, val("referral") or CallReferral.NONE),
        "values": {
            n: val(n) for n in ("callback_at", "callback_phone", "notes", "started_at", "ended_at")
        },
        "person_choice": person_choice,
        "error_list": [
            (
                f"f-{name}" if name in ANCHORED else "",
                str(form.fields[name].label) if name in form.fields else "",
                str(message),
            )
            for name, messages in form.errors.items()
            for message in messages
        ],
        "warnings": _warnings_for(request.user),
        "levels": list(callrisk.LEVELS),
    }


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@login_required
def call_new(request: HttpRequest) -> HttpResponse:
    """The fast call form. Only those who take calls at a centre, trained (seed 002 篇6 三(五)2)."""
    today = timezone.localdate()
    centres = actions.centres_for(request.user, Action.HOTLINE_CALL_LOG)
    allowed = [c for c in centres if actions.valid_training(request.user, c, today)]
    if not allowed:
        reason = actions.refusal(request.user, centres[0] if centres else None, today)
        return render(request, "hotline/refused.html", {"reason": reason}, status=403)
    streets = _streets(allowed[0])
    callback = None
    if _is_uuid(request.GET.get("callback", "")):
        callback = access_callback(request.user, request.GET["callback"])
    if request.method == "POST":
        form = CallForm(request.POST, streets=streets, centres=allowed)
        if form.is_valid():
            d = form.cleaned_data
            person = None
            if d["person"]:
                person = (
                    people_in_scope(request.user)
                    .filter(pk=d["person"], status=FileStatus.ACTIVE)
                    .first()
                )
                if person is None:
                    form.add_error(
                        "person", _("Choose a person file you can see, or keep the call anonymous.")
                    )
            if not form.errors:
                data = actions.CallInput(
                    caller_type=d["caller_type"],
                    started_at=d["started_at"],
                    ended_at=d["ended_at"],
                    caller_sex=d["caller_sex"],
                    age_band=d["age_band"],
                    caller_group=d["caller_group"],
                    area=form.streets.get(d["area"]) if d["area"] else None,
                    problems=list(d["problems"]),
                    answers=form.answers(),
                    chosen_risk=d["risk"],
                    interventions=list(d["interventions"]),
                    referral=d["referral"],
                    callback_at=d["callback_at"],
                    callback_phone=d["callback_phone"],
                    notes=d["notes"],
                    person=person,
                )
                try:
                    # Logged from the call-back queue ("Reached — log the call", issue #8):
                    # the call and the closed request commit together.
                    with transaction.atomic():
                        call = actions.log_call(
                            acting_user=request.user, centre=form.centres[d["centre"]], data=data
                        )
                        if callback is not None:
                            link_call(acting_user=request.user, callback=callback, call=call)
                except PermissionDenied as exc:
                    return render(request, "hotline/refused.html", {"reason": str(exc)}, status=403)
                except ValidationError as exc:
                    for name, messages in _errors(exc).items():
                        for message in messages:
                            form.add_error(name if name in form.fields else None, message)
                else:
                    return redirect(reverse("hotline:call", args=[call.pk]) + "?logged=1")
    else:
        form = CallForm(
            initial={"started_at": _local_input(timezone.now())}, streets=streets, centres=allowed
        )
    status = 400 if form.is_bound and form.errors else 200
    context = _call_context(form, request, allowed)
    context["callback"] = callback
    return render(request, "hotline/call_form.html", context, status=status)


@login_required
@require_POST
def person_search(request: HttpRequest) -> HttpResponse:
    """Person files in the operator's scope by name (part) or exact document number / phone,
    for linking a call; a fragment of radio buttons. POSTed (with the CSRF token) so that the
    name or number never sits in a URL and so in no access log (issue #10 item 9)."""
    if not actions.centres_for(request.user, Action.HOTLINE_CALL_LOG):
        raise Http404
    q = request.POST.get("q", "").strip()[:100]
    results: list[Any] = []
    message = ""
    if not has_confidentiality_agreement(request.user):
        message = _("You have no confidentiality agreement on file, so you cannot search files.")
    elif q:
        match = Q(name__icontains=q)
        with contextlib.suppress(ValueError, TypeError):
            match |= document_or_phone_q(q)
        results = list(
            people_in_scope(request.user)
            .filter(status=FileStatus.ACTIVE)
            .filter(match)
            .order_by("name")[:SEARCH_RESULTS]
        )
        log_access(request, object_type="people.person", kind=AccessKind.SEARCH, reason="hotline")
        if not results:
            message = _("No file found. Keep the call anonymous, or search again.")
    return render(request, "hotline/_people.html", {"results": results, "message": message, "q": q})


@login_required
def call_detail(request: HttpRequest, call_id: Any) -> HttpResponse:
    call = access_call(request.user, call_id)
    notes = read_notes(request, call)
    problems = [categories.label_of(p.code) for p in call.problems.all()]
    answered = [str(label) for name, label in RISK_QUESTIONS if getattr(call, name)]
    from_answers = callrisk.from_answers(
        callrisk.RiskAnswers(
            wish_dead=call.risk_wish_dead,
            ideation=call.risk_ideation,
            method=call.risk_method,
            intent=call.risk_intent,
            plan=call.risk_plan,
            behaviour=call.risk_behaviour,
            harm_others=call.risk_harm_others,
        )
    )
    return render(
        request,
        "hotline/call_detail.html",
        {
            "call": call,
            "notes": notes,
            "may_read_notes": may_read_notes(request.user, call),
            "can_open_person": may_open_person(request.user, call),
            "problems": problems,
            "answered": answered,
            "from_answers": TextRisk(from_answers).label,
            "text_warning": call.text_risk == TextRisk.HIGH and call.risk != TextRisk.HIGH,
            "interventions": [
                Intervention(i).label for i in call.interventions if i in Intervention.values
            ],
            "group_label": TargetGroup(call.caller_group).label
            if call.caller_group in TargetGroup.values
            else "",
            "can_call_back": can(request.user, Action.HOTLINE_CALL_LOG, call.centre),
            "logged": request.GET.get("logged") == "1",
            "sex_label": Sex(call.caller_sex).label if call.caller_sex in Sex.values else "",
            "minutes": call.duration_seconds // 60,
            "seconds": call.duration_seconds % 60,
        },
    )


@login_required
@require_POST
def call_back_done(request: HttpRequest, call_id: Any) -> HttpResponse:
    call = access_call(request.user, call_id, Action.HOTLINE_CALL_LOG)
    actions.callback_done(acting_user=request.user, call=call)
    return redirect("hotline:call", call.pk)


urlpatterns: list[URLPattern] = [
    path("roster/", roster_page, name="roster"),
    path("roster/seats/<uuid:seat_id>/active/", seat_active, name="seat_active"),
    path("roster/shifts/<uuid:shift_id>/remove/", shift_remove, name="shift_remove"),
    path("calls/", call_list, name="calls"),
    path("calls/new/", call_new, name="call_new"),
    path("calls/people/", person_search, name="call_people"),
    path("calls/<uuid:call_id>/", call_detail, name="call"),
    path("calls/<uuid:call_id>/called-back/", call_back_done, name="call_back_done"),
]
