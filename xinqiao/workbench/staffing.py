"""Staffing checks across the org tree (R-TEAM): community teams, isolation sites, caseloads.

Queries only; the rules are in ``xinqiao.orgs.staffing`` (isolation sites, seed 002 篇6 三(三)2)
and ``xinqiao.orgs.models.Team.staffing_problem`` (community teams of 3–5, seed 000 三(二)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet

from xinqiao.accounts.models import User
from xinqiao.orgs.models import (
    COMMUNITY_TEAM_MAX,
    COMMUNITY_TEAM_MIN,
    Qualification,
    Team,
    TeamKind,
    Unit,
    UnitKind,
)
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import scoped
from xinqiao.orgs.staffing import StaffingCheck, isolation_staffing

# "具备专业资质的社会工作者或心理咨询师" (seed 002 篇6 三(三)2).
QUALIFIED_FOR_ISOLATION = [
    Qualification.COUNSELLOR_L2,
    Qualification.COUNSELLOR_L3,
    Qualification.PSYCHOTHERAPIST,
    Qualification.PSYCHIATRIST,
    Qualification.SOCIAL_WORKER_ASSISTANT,
    Qualification.SOCIAL_WORKER,
    Qualification.SOCIAL_WORKER_SENIOR,
]


def _isolated(records: Any, today: date) -> int:
    """People in centralised isolation today among ``records`` (IsolationRecord rows)."""
    from xinqiao.people.models import IsolationKind

    current = records.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=today),
        kind=IsolationKind.CENTRALISED,
        started_on__lte=today,
        person__erased_at__isnull=True,
    )
    return int(current.values("person").distinct().count())


def _qualified(users: QuerySet[User]) -> int:
    return (
        users.filter(is_active=True, staff_profile__qualification__in=QUALIFIED_FOR_ISOLATION)
        .distinct()
        .count()
    )


def site_staffing(site: Unit, today: date) -> StaffingCheck:
    """An isolation site: the people isolated there today against the qualified staff who
    hold a role at the site."""
    from xinqiao.people.models import IsolationRecord

    isolated = _isolated(IsolationRecord.objects.filter(site=site), today)
    staff = User.objects.filter(memberships__unit=site)
    return isolation_staffing(isolated, _qualified(staff))


def area_staffing(user: Any, today: date) -> StaffingCheck | None:
    """People in centralised isolation in the user's area against the qualified staff there,
    or None when nobody is in isolation."""
    from xinqiao.people.access import people_in_scope
    from xinqiao.people.models import IsolationRecord

    isolated = _isolated(IsolationRecord.objects.filter(person__in=people_in_scope(user)), today)
    if not isolated:
        return None
    staff = scoped(User.objects.all(), user, Action.STAFF_VIEW)
    return isolation_staffing(isolated, _qualified(staff))


@dataclass(frozen=True)
class CommunityTeam:
    community: Unit
    team: Team | None
    members: int

    @property
    def problem(self) -> str:
        if self.team is None:
            from django.utils.translation import gettext as _

            return _("No community team: it needs %(min)d–%(max)d members.") % {
                "min": COMMUNITY_TEAM_MIN,
                "max": COMMUNITY_TEAM_MAX,
            }
        return self.team.staffing_problem(self.members)


def community_teams(user: Any) -> list[CommunityTeam]:
    """Every active community in the user's scope with its (largest active) community team."""
    communities = scoped(Unit.objects.filter(kind=UnitKind.COMMUNITY, is_active=True), user)
    teams: dict[Any, Team] = {}
    for team in (
        Team.objects.filter(kind=TeamKind.COMMUNITY, is_active=True, unit__in=communities)
        .annotate(n=Count("members"))
        .order_by("n")
    ):
        teams[team.unit_id] = team  # ascending: the largest wins
    return [
        CommunityTeam(c, teams.get(c.pk), getattr(teams.get(c.pk), "n", 0))
        for c in communities.order_by("path")
    ]


@dataclass(frozen=True)
class SiteStaffing:
    site: Unit
    check: StaffingCheck


def isolation_sites(user: Any, today: date) -> list[SiteStaffing]:
    sites = scoped(Unit.objects.filter(kind=UnitKind.ISOLATION_SITE, is_active=True), user)
    return [SiteStaffing(site, site_staffing(site, today)) for site in sites.order_by("path")]


CASELOAD_DAYS = 90  # the platform's window for "people counselled recently"


@dataclass(frozen=True)
class Caseload:
    counsellor: User
    responsible_for: int  # people under service whose follow-up plan names them
    counselled: int  # distinct people in their sessions of the last CASELOAD_DAYS
    upcoming: int  # booked appointments from now on


def caseloads(user: Any, now: Any) -> list[Caseload]:
    """Each counsellor-type staff member in the user's scope (a role that records counselling
    sessions) with their caseload, largest first (R-TEAM 服务队伍; R-REPORT)."""
    from datetime import timedelta

    from xinqiao.booking.models import Appointment, AppointmentStatus
    from xinqiao.counselling.models import SessionParticipant
    from xinqiao.followups.models import FollowUpPlan
    from xinqiao.orgs.permissions import roles_with
    from xinqiao.people.models import FileStatus

    counsellors = list(
        scoped(User.objects.filter(is_active=True), user, Action.STAFF_VIEW)
        .filter(memberships__role__in=roles_with(Action.SESSION_RECORD))
        .distinct()
        .order_by("name")
    )
    ids = [c.pk for c in counsellors]

    def counts(rows: Any, field: str) -> dict[Any, int]:
        return dict(rows.values_list(field).annotate(n=Count("id")).order_by())

    responsible = counts(
        FollowUpPlan.objects.filter(responsible__in=ids, person__status=FileStatus.ACTIVE),
        "responsible",
    )
    counselled = dict(
        SessionParticipant.objects.filter(
            session__counsellor__in=ids,
            session__held_at__gte=now - timedelta(days=CASELOAD_DAYS),
        )
        .values_list("session__counsellor")
        .annotate(n=Count("person", distinct=True))
        .order_by()
    )
    upcoming = counts(
        Appointment.objects.filter(
            counsellor__in=ids, status=AppointmentStatus.BOOKED, starts_at__gte=now
        ),
        "counsellor",
    )
    rows = [
        Caseload(c, responsible.get(c.pk, 0), counselled.get(c.pk, 0), upcoming.get(c.pk, 0))
        for c in counsellors
    ]
    return sorted(rows, key=lambda r: -(r.responsible_for + r.counselled + r.upcoming))
