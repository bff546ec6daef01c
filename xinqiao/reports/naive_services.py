"""The service figures the slow way (see ``naive``): GROUP BY over the raw tables of a whole
subtree and period, with no aggregate table, from the definitions in the docstring of
``sources_services`` — referrals, follow-ups, sessions, hotline calls, mailbox, education,
staffing, isolation sites and severe mental disorders. Never used by a page."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from django.db.models import Count, Min, Q, Sum
from django.db.models.functions import ExtractHour

from xinqiao.reports.naive import naive
from xinqiao.reports.tally import Counts, local_tz, period_bounds

ALIVE = {"status": "active", "is_deceased": False, "unnamed_contact": False}


def _alive(prefix: str) -> dict[str, Any]:
    return {f"{prefix}{k}": v for k, v in ALIVE.items()}


def _add(result: Counts, cell: tuple[str, str], n: int, amount: int = 0) -> None:
    old = result.get(cell, (0, 0))
    result[cell] = (old[0] + int(n or 0), old[1] + int(amount or 0))


@naive
def referrals(path: str, start: date, end: date) -> Counts:
    from xinqiao.referrals.models import Referral

    lo, hi = period_bounds(start, end)
    sent = Referral.objects.filter(
        from_unit__path__startswith=path, sent_at__gte=lo, sent_at__lt=hi
    ).order_by()
    result: Counts = {}
    for r1 in sent.values("kind", "status").annotate(n=Count("id")):
        _add(result, ("referral", f"{r1['kind']}|{r1['status']}"), r1["n"])
    for r2 in sent.values("to_unit__kind", "status").annotate(n=Count("id")):
        _add(result, ("referral.to", f"{r2['to_unit__kind']}|{r2['status']}"), r2["n"])
    return result


@naive
def followups(path: str, start: date, end: date) -> Counts:
    from xinqiao.followups.models import FollowUpPlan, FollowUpVisit

    result: Counts = {}
    visits = (
        FollowUpVisit.objects.filter(
            person__unit__path__startswith=path, visited_on__gte=start, visited_on__lte=end
        )
        .order_by()
        .values("outcome", "mode")
        .annotate(n=Count("id"))
    )
    for r3 in visits:
        _add(result, ("followup.visit", f"{r3['outcome']}|{r3['mode']}"), r3["n"])
    plans = FollowUpPlan.objects.filter(person__unit__path__startswith=path, **_alive("person__"))
    for r4 in plans.values("next_due").annotate(n=Count("id")).order_by():
        _add(result, ("followup.plan_due", r4["next_due"].isoformat()), r4["n"])
    for r5 in plans.values("responsible_id").annotate(n=Count("id")).order_by():
        who = "" if r5["responsible_id"] is None else str(r5["responsible_id"])
        _add(result, ("followup.caseload", who), r5["n"])
    return result


@naive
def sessions(path: str, start: date, end: date) -> Counts:
    from xinqiao.counselling.models import Session, SessionParticipant

    lo, hi = period_bounds(start, end)
    result: Counts = {}
    held = (
        Session.objects.filter(unit__path__startswith=path, held_at__gte=lo, held_at__lt=hi)
        .order_by()
        .values("kind", "format")
        .annotate(n=Count("id"), minutes=Sum("minutes"))
    )
    for r6 in held:
        _add(result, ("session", f"{r6['kind']}|{r6['format']}"), r6["n"], r6["minutes"])
    came = (
        SessionParticipant.objects.filter(
            session__unit__path__startswith=path,
            session__held_at__gte=lo,
            session__held_at__lt=hi,
            attended=True,
        )
        .order_by()
        .values("session__kind", "session__format")
        .annotate(n=Count("id"))
    )
    for r7 in came:
        _add(result, ("session.people", f"{r7['session__kind']}|{r7['session__format']}"), r7["n"])
    return result


@naive
def calls(path: str, start: date, end: date) -> Counts:
    from xinqiao.hotline.models import Call, CallProblem

    lo, hi = period_bounds(start, end)
    result: Counts = {}
    made = Call.objects.filter(
        centre__path__startswith=path, started_at__gte=lo, started_at__lt=hi
    ).order_by()
    by_hour = (
        made.annotate(hour=ExtractHour("started_at", tzinfo=local_tz()))
        .values("hour")
        .annotate(n=Count("id"))
    )
    for r8 in by_hour:
        _add(result, ("call.hour", str(r8["hour"])), r8["n"])
    for r9 in made.values("risk").annotate(n=Count("id")):
        _add(result, ("call.risk", r9["risk"]), r9["n"])
    problems = (
        CallProblem.objects.filter(
            call__centre__path__startswith=path,
            call__started_at__gte=lo,
            call__started_at__lt=hi,
        )
        .values("group")
        .annotate(n=Count("call_id", distinct=True))
        .order_by()
    )
    for r10 in problems:
        _add(result, ("call.category", r10["group"]), r10["n"])
    return result


@naive
def mailbox(path: str, start: date, end: date) -> Counts:
    from xinqiao.hotline.models import MailboxMessage

    lo, hi = period_bounds(start, end)
    messages = MailboxMessage.objects.filter(
        unit__path__startswith=path, created_at__gte=lo, created_at__lt=hi
    ).order_by()
    result: Counts = {}
    for r11 in messages.values("kind").annotate(n=Count("id")):
        _add(result, ("mailbox", r11["kind"]), r11["n"])
    answered = (
        messages.annotate(first=Min("replies__created_at", filter=Q(replies__author__isnull=False)))
        .filter(first__isnull=False)
        .values_list("kind", "created_at", "first")
    )
    counter: Counter[tuple[str, str]] = Counter()
    for kind, created, first in answered:
        hours = max(0, int((first - created).total_seconds() // 3600))
        counter[("mailbox.reply", f"{kind}|{hours}")] += 1
    for cell, n in counter.items():
        _add(result, cell, n)
    return result


@naive
def education(path: str, start: date, end: date) -> Counts:
    from xinqiao.content.models import ArticleStat

    rows = (
        ArticleStat.objects.filter(unit__path__startswith=path, day__gte=start, day__lte=end)
        .values("article__kind")
        .annotate(views=Sum("views"), completions=Sum("completions"))
        .order_by()
    )
    result: Counts = {}
    for r12 in rows:
        _add(result, ("content.views", r12["article__kind"]), r12["views"])
        _add(result, ("content.completions", r12["article__kind"]), r12["completions"])
    return result


@naive
def staffing(path: str, start: date, end: date) -> Counts:
    from xinqiao.orgs.models import Membership, Team, UnitKind
    from xinqiao.workbench.staffing import QUALIFIED_FOR_ISOLATION

    result: Counts = {}
    teams = Team.objects.filter(unit__path__startswith=path, is_active=True).annotate(
        n=Count("members")
    )
    for kind, members in teams.values_list("kind", "n"):
        _add(result, ("staff.team", f"{kind}|{members}"), 1, members)
    active = Membership.objects.filter(unit__path__startswith=path, user__is_active=True)
    for r13 in active.values("role").annotate(n=Count("id")).order_by():
        _add(result, ("staff.role", r13["role"]), r13["n"])
    at_sites = active.filter(
        unit__kind=UnitKind.ISOLATION_SITE,
        user__staff_profile__qualification__in=QUALIFIED_FOR_ISOLATION,
    )
    staff: dict[Any, set[Any]] = defaultdict(set)
    for site_id, user_id in at_sites.values_list("unit_id", "user_id"):
        staff[site_id].add(user_id)
    for site_id, users in staff.items():
        _add(result, ("staff.site", str(site_id)), len(users))
    return result


@naive
def isolation(path: str, start: date, end: date) -> Counts:
    from xinqiao.people.models import IsolationRecord

    records = IsolationRecord.objects.filter(
        site__path__startswith=path, kind="centralised", person__erased_at__isnull=True
    ).order_by()
    result: Counts = {}
    open_now = (
        records.filter(ended_on__isnull=True)
        .values("site_id")
        .annotate(n=Count("person_id", distinct=True))
    )
    for r14 in open_now:
        _add(result, ("isolation.open", str(r14["site_id"])), r14["n"])
    ending = (
        records.filter(ended_on__gte=start, ended_on__lte=end)
        .values("site_id", "ended_on")
        .annotate(n=Count("person_id", distinct=True))
    )
    for r in ending:  # people by end date: one a day
        _add(result, ("isolation.until", str(r["site_id"])), r["n"])
    return result


@naive
def severe_mental_disorders(path: str, start: date, end: date) -> Counts:
    from xinqiao.risk.models import SmiFollowUp, SmiPatient

    patients = set(
        SmiPatient.objects.filter(
            person__unit__path__startswith=path, **_alive("person__")
        ).values_list("person_id", flat=True)
    )
    dates: dict[Any, list[date]] = {p: [] for p in patients}
    followups = SmiFollowUp.objects.filter(
        patient__person__unit__path__startswith=path, **_alive("patient__person__")
    )
    for patient_id, day in followups.values_list("patient_id", "date").iterator(chunk_size=5000):
        dates[patient_id].append(day)
    counter: Counter[tuple[str, str]] = Counter()
    for days in dates.values():
        days.sort(reverse=True)
        counter[("smi.managed", days[3].isoformat() if len(days) >= 4 else "")] += 1
    return {cell: (n, 0) for cell, n in counter.items()}
