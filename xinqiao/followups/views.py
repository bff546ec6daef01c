"""Pages of follow-up: the due and overdue list, the supervisor's counts, recording a visit."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.assessments.models import Assessment, AssessmentStatus
from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.concurrency import submit_edit, versioned_initial
from xinqiao.followups import actions, schedule
from xinqiao.followups.access import access_visit, plans_in_scope, sees_content
from xinqiao.followups.forms import VisitForm
from xinqiao.followups.models import FollowUpPlan
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, require_confidentiality_agreement, scoped
from xinqiao.people.access import access_person
from xinqiao.workbench.forms import person_form_page


def _annotate(plans: Any, today: Any) -> None:
    for plan in plans:
        plan.overdue_by = schedule.overdue_days(due=plan.next_due, today=today)


@login_required
def due_list(request: HttpRequest) -> HttpResponse:
    """Due and overdue follow-ups (R-FOLLOW), most overdue first."""
    user = request.user
    if not can(user, Action.FOLLOWUP_VIEW):
        raise Http404
    require_confidentiality_agreement(user)
    today = timezone.localdate()
    plans = plans_in_scope(user)
    units = scoped(
        Unit.objects.filter(is_active=True, kind__in=[UnitKind.STREET, UnitKind.COMMUNITY]),
        user,
        Action.FOLLOWUP_VIEW,
    ).order_by("path")
    unit_id = request.GET.get("unit") or ""
    chosen = None
    if unit_id:
        try:
            chosen = units.filter(pk=unit_id).first()
        except (ValueError, TypeError):  # not a UUID
            chosen = None
        if chosen is not None:
            plans = plans.filter(person__unit__path__startswith=chosen.path)
    mine = request.GET.get("mine") == "1"
    if mine:
        plans = plans.filter(responsible_id=user.pk)
    when = request.GET.get("when", "due")
    if when == "overdue":
        plans = plans.filter(next_due__lt=today)
    elif when == "week":
        plans = plans.filter(next_due__gte=today, next_due__lte=today + timedelta(days=6))
    elif when == "due":  # overdue or due within the week
        plans = plans.filter(next_due__lte=today + timedelta(days=6))
    else:
        when = "all"
    page = Paginator(plans.order_by("next_due", "person__name"), 50).get_page(
        request.GET.get("page")
    )
    _annotate(page, today)
    log_access(request, None, kind=AccessKind.LIST, object_type="followups.followupplan")
    return render(
        request,
        "followups/list.html",
        {
            "page": page,
            "units": units,
            "chosen": chosen,
            "mine": mine,
            "when": when,
            "today": today,
            "can_oversee": can(user, Action.FOLLOWUP_OVERSEE),
        },
    )


@login_required
def oversee(request: HttpRequest) -> HttpResponse:
    """The supervisor's page: overdue follow-ups per responsible worker and per community."""
    user = request.user
    if not can(user, Action.FOLLOWUP_OVERSEE):
        raise Http404
    today = timezone.localdate()
    overdue = plans_in_scope(user, Action.FOLLOWUP_OVERSEE).filter(next_due__lt=today)
    rows = list(
        overdue.values_list(
            "responsible_id",
            "responsible__name",
            "person__unit_id",
            "person__unit__kind",
            "person__unit__parent_id",
        )
    )
    workers = Counter((r[0], r[1] or "") for r in rows)
    communities = Counter(r[4] if r[3] == UnitKind.GRID else r[2] for r in rows)
    names: dict[Any, Unit] = {u.pk: u for u in Unit.objects.filter(pk__in=list(communities))}
    return render(
        request,
        "followups/oversee.html",
        {
            "workers": sorted(
                ({"id": k[0], "name": k[1], "n": n} for k, n in workers.items()),
                key=lambda w: (-w["n"], w["name"]),
            ),
            "communities": sorted(
                ({"unit": names.get(k), "n": n} for k, n in communities.items()),
                key=lambda c: -c["n"],
            ),
            "total": len(rows),
            "today": today,
        },
    )


@login_required
def visit_new(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id, Action.FOLLOWUP_RECORD)
    assessments = Assessment.objects.filter(
        person=person, status=AssessmentStatus.COMPLETED
    ).order_by("-completed_at")[:20]
    plan = FollowUpPlan.objects.filter(person=person).first()
    form = VisitForm(
        request.POST or None,
        assessments=assessments,
        initial={"visited_on": timezone.localdate()} | versioned_initial(plan, actions.PLAN_FIELDS),
    )

    def save(data: dict[str, Any], version: int | None, token: str) -> Any:
        chosen = None
        if data.get("assessment"):
            chosen = Assessment.objects.filter(pk=data["assessment"]).first()
        return actions.record_visit(
            acting_user=request.user,
            person=person,
            visited_on=data["visited_on"],
            mode=data["mode"],
            outcome=data["outcome"],
            next_due=data.get("next_due"),
            assessment=chosen,
            counselling=data.get("counselling", ""),
            guidance=data.get("guidance", ""),
            toolkit=data.get("toolkit") or [],
            state=data["state"],
            state_note=data.get("state_note", ""),
            expected_version=version,
            read_digests=token,
        )

    saved, stale = submit_edit(
        request,
        form,
        save,
        _("Follow-up recorded."),
        heading=_(
            "Someone else changed this follow-up plan while you were recording: %(fields)s changed."
        ),
    )
    if saved is not None:
        return redirect(f"/people/{person.pk}/#followup")
    response = person_form_page(request, person, form, _("Record a follow-up"))
    if stale:
        response.status_code = 409  # Conflict: the plan changed since the form was read
    return response


@login_required
def visit_detail(request: HttpRequest, visit_id: Any) -> HttpResponse:
    visit = access_visit(request.user, visit_id)
    content = sees_content(request.user, visit)
    log_access(request, visit, kind=AccessKind.VIEW)
    return render(request, "followups/visit.html", {"visit": visit, "content": content})
