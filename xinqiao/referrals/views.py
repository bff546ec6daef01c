"""Referral pages. Each reads top to bottom: access → act → respond.

The receiving unit works from its inbox and the referral page; it never needs the person's
file (R-PRIVACY): the page shows what it needs of the person, and nothing more.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, get_or_404, require, require_confidentiality_agreement
from xinqiao.people.access import access_person, has_consent
from xinqiao.people.models import ConsentPurpose, FileStatus, Person
from xinqiao.referrals import actions
from xinqiao.referrals.access import (
    access_referral,
    home_unit,
    is_receiver,
    is_sender,
    may_open,
    referrals_in_scope,
)
from xinqiao.referrals.forms import DeclineForm, DischargeForm, OutcomeForm, ReferralForm
from xinqiao.referrals.models import (
    HOSPITAL_KINDS,
    OPEN_STATUSES,
    RECEIVING_UNIT_KINDS,
    SENDABLE_KINDS,
    Referral,
    ReferralStatus,
)
from xinqiao.risk.models import Alert
from xinqiao.workbench.forms import report, submit

BOXES = ("in", "out")


def _sides(request: HttpRequest) -> dict[str, bool]:
    return {
        "in": can(request.user, Action.REFERRAL_RECEIVE),
        "out": can(request.user, Action.REFERRAL_SEND),
    }


@login_required
def referral_list(request: HttpRequest) -> HttpResponse:
    """The receiving unit's inbox, and the referrals the user's units sent (R-REFER)."""
    sides = _sides(request)
    if not any(sides.values()):
        raise Http404
    require_confidentiality_agreement(request.user)  # the lists name people
    box = request.GET.get("box", "")
    if box not in BOXES or not sides[box]:
        box = "in" if sides["in"] else "out"
    status = request.GET.get("status", "open")
    referrals = referrals_in_scope(
        request.user, Action.REFERRAL_RECEIVE if box == "in" else Action.REFERRAL_SEND
    )
    if status == "open":
        referrals = referrals.filter(status__in=OPEN_STATUSES)
    elif status in ReferralStatus.values:
        referrals = referrals.filter(status=status)
    else:
        status = ""
    page = Paginator(referrals.order_by("-sent_at"), 50).get_page(request.GET.get("page"))
    log_access(request, None, kind=AccessKind.LIST, object_type="referrals.referral")
    return render(
        request,
        "referrals/list.html",
        {
            "page": page,
            "box": box,
            "sides": sides,
            "status": status,
            "statuses": ReferralStatus.choices,
        },
    )


def _destinations(person: Person) -> Any:
    """Units of the person's city that receive referrals (inactive ones too: the action says
    why they cannot be chosen), the person's own unit left out."""
    city_path = "/" + person.unit.path.split("/")[1] + "/"
    kinds = set().union(*(RECEIVING_UNIT_KINDS[k] for k in SENDABLE_KINDS))
    return (
        Unit.objects.filter(path__startswith=city_path, kind__in=sorted(kinds))
        .exclude(pk=home_unit(person).pk)
        .order_by("kind", "name")
    )


def _alert_of(request: HttpRequest, person: Person) -> Alert | None:
    """The crisis alert the referral answers (``?alert=`` from the alert page), which must be
    about this person: anything else is a page that does not exist."""
    alert_id = request.POST.get("alert") or request.GET.get("alert")
    if not alert_id:
        return None
    return get_or_404(Alert.objects.filter(person=person), alert_id)


@login_required
def referral_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    """The "Refer" page of a person's file."""
    person = access_person(request.user, person_id)
    require(request.user, Action.REFERRAL_SEND, home_unit(person))
    alert = _alert_of(request, person)
    form = ReferralForm(
        request.POST or None,
        units=_destinations(person),
        initial={"kind": request.GET.get("kind", "")},  # e.g. the SMI page's green channel
    )
    referral = submit(
        request,
        form,
        lambda data: actions.refer_person(
            acting_user=request.user,
            person=person,
            to_unit=data["to_unit"],
            kind=data["kind"],
            urgency=data["urgency"],
            reason=data["reason"],
            contact_phone=data["contact_phone"],
            emergency_reason=data["emergency_reason"],
            alert=alert,
            request=request,
        ),
        _("Referral sent. The receiving unit will answer it."),
    )
    if referral is not None:
        return redirect("referrals:detail", referral_id=referral.pk)
    return render(
        request,
        "referrals/new.html",
        {
            "person": person,
            "form": form,
            "alert": alert,
            "consented": has_consent(person, ConsentPurpose.DATA_SHARING_HOSPITAL),
            "active": person.status == FileStatus.ACTIVE,
        },
    )


def _age(person: Person) -> int | None:
    return person.age(timezone.localdate())


@login_required
def referral_detail(request: HttpRequest, referral_id: Any) -> HttpResponse:
    referral = access_referral(request.user, referral_id)
    log_access(request, referral, unit_path=referral.person.unit.path)
    user = request.user
    person = referral.person
    receiver = is_receiver(user, referral)
    sender = is_sender(user, referral)
    related = [
        r
        for r in [
            *([referral.previous] if referral.previous_id else []),
            *referral.follow_ups.select_related("from_unit", "to_unit"),
        ]
        if r is not None and may_open(user, r)
    ]
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "person": person,
            "age": _age(person),
            "related": related,
            "can_open_file": can(user, Action.PERSON_VIEW, person.unit),
            "can_accept": receiver and referral.can_become(ReferralStatus.ACCEPTED),
            "can_decline": receiver and referral.can_become(ReferralStatus.DECLINED),
            "can_complete": receiver and referral.can_become(ReferralStatus.DONE),
            "can_cancel": sender and referral.can_become(ReferralStatus.CANCELLED),
            "can_discharge": receiver
            and referral.to_unit.kind in HOSPITAL_KINDS
            and referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.DONE)
            and can(user, Action.REFERRAL_SEND, referral.to_unit),
        },
    )


def _received(request: HttpRequest, referral_id: Any) -> Referral:
    """A referral the user sees, answered by its receiving unit: 403 for the sending side."""
    referral = access_referral(request.user, referral_id)
    require(request.user, Action.REFERRAL_RECEIVE, referral.to_unit)
    return referral


def _page(request: HttpRequest, referral: Referral, form: Any, title: str) -> HttpResponse:
    return render(
        request,
        "referrals/form.html",
        {"referral": referral, "person": referral.person, "form": form, "title": title},
    )


@login_required
@require_POST
def referral_accept(request: HttpRequest, referral_id: Any) -> HttpResponse:
    referral = _received(request, referral_id)
    report(
        request,
        lambda: actions.accept_referral(acting_user=request.user, referral=referral),
        _("Referral accepted. Record the outcome when it is done."),
    )
    return redirect("referrals:detail", referral_id=referral.pk)


@login_required
def referral_decline(request: HttpRequest, referral_id: Any) -> HttpResponse:
    referral = _received(request, referral_id)
    form = DeclineForm(request.POST or None)
    done = submit(
        request,
        form,
        lambda data: actions.decline_referral(
            acting_user=request.user, referral=referral, reason=data["decline_reason"]
        ),
        _("Referral declined. The referring unit sees your reason."),
    )
    if done is not None:
        return redirect("referrals:detail", referral_id=referral.pk)
    return _page(request, referral, form, _("Decline the referral"))


@login_required
def referral_outcome(request: HttpRequest, referral_id: Any) -> HttpResponse:
    referral = _received(request, referral_id)
    form = OutcomeForm(request.POST or None)
    done = submit(
        request,
        form,
        lambda data: actions.complete_referral(
            acting_user=request.user,
            referral=referral,
            outcome=data["outcome"],
            outcome_on=data["outcome_on"],
        ),
        _("Outcome recorded. The referring unit and the person's file show it."),
    )
    if done is not None:
        return redirect("referrals:detail", referral_id=referral.pk)
    return _page(request, referral, form, _("Record the outcome"))


@login_required
@require_POST
def referral_cancel(request: HttpRequest, referral_id: Any) -> HttpResponse:
    referral = access_referral(request.user, referral_id)
    require(request.user, Action.REFERRAL_SEND, referral.from_unit)
    report(
        request,
        lambda: actions.cancel_referral(acting_user=request.user, referral=referral),
        _("Referral cancelled."),
    )
    return redirect("referrals:detail", referral_id=referral.pk)


@login_required
def referral_discharge(request: HttpRequest, referral_id: Any) -> HttpResponse:
    """A hospital discharges a person it received, back to their community."""
    referral = _received(request, referral_id)
    require(request.user, Action.REFERRAL_SEND, referral.to_unit)
    if referral.to_unit.kind not in HOSPITAL_KINDS:
        raise Http404
    form = DischargeForm(request.POST or None)
    discharge = submit(
        request,
        form,
        lambda data: actions.record_discharge(
            acting_user=request.user,
            referral=referral,
            discharged_on=data["discharged_on"],
            follow_up_plan=data["follow_up_plan"],
            urgency=data["urgency"],
            contact_phone=data["contact_phone"],
        ),
        _("Discharge recorded. The community receives the follow-up plan."),
    )
    if discharge is not None:
        return redirect("referrals:detail", referral_id=discharge.pk)
    return render(
        request,
        "referrals/discharge.html",
        {
            "referral": referral,
            "person": referral.person,
            "form": form,
            "community": actions.discharge_target(referral.person),
        },
    )
