"""The workbench: each user's home page, built only from what exists for their roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django_otp import user_has_device

from xinqiao.accounts.models import User
from xinqiao.orgs.models import ConfidentialityAgreement, Team, Unit, UnitKind
from xinqiao.orgs.permissions import Action, Role
from xinqiao.orgs.scope import can, grants, has_confidentiality_agreement, scope_paths, scoped
from xinqiao.workbench import staffing


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    my_grants = grants(user)
    units = {u.id: u for u in Unit.objects.filter(id__in=[g.unit_id for g in my_grants])}
    roles = [{"role": Role(g.role).label, "unit": units.get(g.unit_id)} for g in my_grants]
    context: dict[str, Any] = {
        "roles": roles,
        "has_agreement": has_confidentiality_agreement(user),
        "has_2fa": user_has_device(user, confirmed=True),
    }
    scoped_units = scoped(Unit.objects.filter(is_active=True), user)
    counts = dict(scoped_units.values_list("kind").annotate(n=Count("id")).order_by())
    context["unit_counts"] = [
        {"kind": kind.label, "n": counts[kind.value]} for kind in UnitKind if kind.value in counts
    ]
    teams = scoped(Team.objects.filter(is_active=True), user).annotate(n=Count("members"))
    context["my_teams"] = Team.objects.filter(members__user=user).select_related("unit")
    context["understaffed"] = [t for t in teams if t.staffing_problem(t.n)]
    if can(user, Action.STAFF_VIEW):
        staff = scoped(User.objects.filter(is_active=True), user, Action.STAFF_VIEW)
        signed = ConfidentialityAgreement.objects.filter(revoked_at__isnull=True).values("user")
        context["staff_count"] = staff.count()
        if can(user, Action.AGREEMENT_RECORD):
            context["unsigned"] = list(staff.exclude(pk__in=signed).order_by("username")[:20])
    if can(user, Action.PERSON_VIEW):
        from xinqiao.people.access import people_in_scope
        from xinqiao.people.actions import transfers_to_decide
        from xinqiao.people.models import FileStatus

        by_level = dict(
            people_in_scope(user)
            .filter(status=FileStatus.ACTIVE)
            .values_list("priority_level")
            .annotate(n=Count("id"))
            .order_by()
        )
        context["people_by_level"] = [(level, by_level.get(level, 0)) for level in (1, 2, 3, 4)]
        context["people_total"] = sum(by_level.values())
        if can(user, Action.PERSON_TRANSFER):
            context["transfers_waiting"] = transfers_to_decide(user).count()
        if can(user, Action.STAFF_VIEW):
            context["staffing"] = staffing.area_staffing(user, timezone.localdate())
    if can(user, Action.ASSESSMENT_VIEW) and has_confidentiality_agreement(user):
        context.update(_assessments_summary(user))
    if can(user, Action.ALERT_VIEW) and has_confidentiality_agreement(user):
        from xinqiao.risk.access import open_alerts

        context["open_alerts"] = list(open_alerts(user)[:20])
        context["now"] = timezone.now()
    if can(user, Action.FOLLOWUP_RECORD):  # my follow-ups due (R-FOLLOW)
        from xinqiao.followups.access import plans_in_scope

        today = timezone.localdate()
        mine = plans_in_scope(user).filter(responsible=user, next_due__lte=today)
        context["followups_due"] = mine.filter(next_due=today).count()
        context["followups_overdue"] = mine.filter(next_due__lt=today).count()
    audit_paths = scope_paths(user, Action.AUDIT_VIEW)
    if audit_paths:
        from xinqiao.audit.views import AuditFilter, access_entries

        context["recent_access"] = access_entries(request, AuditFilter(None), audit_paths)[:10]
    if any(g.role == Role.SYSTEM_ADMIN for g in my_grants):
        from xinqiao.ops.models import WorkerHeartbeat

        context["heartbeats"] = WorkerHeartbeat.objects.all()
    return render(request, "workbench/home.html", context)


def _assessments_summary(user: Any) -> dict[str, Any]:
    """Risk signals not older than a week, and assessments this week, in the user's area."""
    from datetime import timedelta

    from xinqiao.assessments.access import assessments_in_scope
    from xinqiao.risk.models import RiskSignal

    since = timezone.now() - timedelta(days=7)
    signals = scoped(RiskSignal.objects.select_related("person"), user, Action.ASSESSMENT_VIEW)
    return {
        "recent_signals": list(signals.filter(created_at__gte=since).order_by("-created_at")[:10]),
        "assessments_week": assessments_in_scope(user).filter(completed_at__gte=since).count(),
    }


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers; no personal data."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
