"""What the aggregate tables count for the services beyond people, assessments and alerts
(issue #9 item 1): referrals, follow-ups, counselling sessions, hotline calls, the mailbox,
education reach, staffing and the seeds' indicators. Same form as ``sources``: each source
gives the counts of some owning units on one local day (or on ``SNAPSHOT_DAY`` for what is
true now) and names the fields whose change alters them; ``naive_services`` computes the same
figures by GROUP BY over a subtree.

Measures (keys join dimension values with "|"; owner and day; key; what is counted):

- referral: from_unit, sent_at; kind|status; referrals.
- referral.to: from_unit, sent_at; kind of the receiving unit|status; referrals.
- followup.visit: the person's unit, visited_on; outcome|mode; visits and attempts.
- followup.plan_due: the person's unit, snapshot; next due date (ISO); plans of people under
  service.
- followup.caseload: the person's unit, snapshot; responsible worker's id ("" none); plans.
- session: unit, held_at; kind|format; sessions (amount: minutes).
- session.people: unit, held_at; kind|format; participants who attended.
- call.hour: centre, started_at; local hour 0–23; calls.
- call.category: centre, started_at; first-level problem category; calls (once per category).
- call.risk: centre, started_at; risk; calls.
- mailbox: unit, created_at; kind; messages.
- mailbox.reply: unit, created_at; kind|whole hours to the first answer; messages answered.
- content.views, content.completions: unit, day; article kind; the daily counters' sums.
- staff.team: the team's unit, snapshot; team kind|members; active teams (amount: members).
- staff.role: unit, snapshot; role; memberships of active users.
- staff.site: isolation site, snapshot; site id; qualified active staff holding a role there.
- isolation.open: isolation site, snapshot; site id; people in centralised isolation there
  with no end date.
- isolation.until: isolation site, end date; site id; the same with an end date.
- smi.managed: the person's unit, snapshot; date of the fourth latest follow-up ("" fewer);
  registered patients with a severe mental disorder under service.

Figures that depend on today are kept by date so that no daily recount is needed: a plan is
overdue today when its ``followup.plan_due`` key is before today; a person is in isolation
today when the record has no end date or its ``isolation.until`` day is today or later; an
SMI patient is under managed follow-up today when their ``smi.managed`` key is within the
last 365 days (four follow-ups in a year: ``xinqiao.risk.smi.enough_followups``).

Big tables (referrals, visits, plans, sessions, calls, article statistics) are counted by
querysets, which ``tally.rebuild`` runs inside the database; the small ones (mailbox, staff,
isolation, SMI patients) by tuples from a query already grouped by the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import (
    CharField,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast, ExtractHour

from xinqiao.reports.models import SNAPSHOT_DAY
from xinqiao.reports.sources import (
    in_units,
    joined,
    local_date,
    marks_on,
    on_day,
    snapshot_of,
    tally_rows,
    under_service,
)
from xinqiao.reports.tally import (
    Mark,
    RowSet,
    Source,
    Watch,
    local_day,
    local_tz,
    register,
    touch,
)

Row = tuple[Any, date, str, str, int, int]


def date_of(field: str) -> Any:
    """A DateField as the aggregate row's day."""
    return ExpressionWrapper(F(field), output_field=DateField())


def text(field: Any) -> Any:
    return Cast(field, CharField())


def on_date(queryset: QuerySet[Any], field: str, day: date | None) -> QuerySet[Any]:
    """``on_day`` for a DateField (a local date already)."""
    return queryset if day is None else queryset.filter(**{field: day})


def id_key(value: Any) -> str:
    """A unit's or a user's id as a key ("" for none): the same text on every database."""
    return "" if value is None else str(value)


def _person_unit(person_id: Any) -> list[Any]:
    from xinqiao.people.models import Person

    return list(Person.objects.filter(pk=person_id).values_list("unit_id", flat=True))


def person_unit_on(field: str) -> Any:
    """Marks of a row that counts for its person's unit on the date ``field``."""

    def marks(values: dict[str, Any]) -> Iterable[Mark]:
        day = values[field]
        return [(u, day) for u in _person_unit(values["person_id"])] if day else []

    return marks


def person_snapshot(values: dict[str, Any]) -> Iterable[Mark]:
    return [(u, SNAPSHOT_DAY) for u in _person_unit(values["person_id"])]


PERSON_SERVICE_FIELDS = ("unit_id", "status", "is_deceased", "unnamed_contact")


# --- referrals ------------------------------------------------------------------------------


def _referral_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.referrals.models import Referral

    sent = on_day(in_units(Referral.objects.all(), "from_unit_id", units), "sent_at", day)
    common: dict[str, Any] = {"unit": "from_unit_id", "day": local_date("sent_at")}
    return [
        tally_rows(sent, measure="referral", key=joined("kind", "status"), **common),
        tally_rows(sent, measure="referral.to", key=joined("to_unit__kind", "status"), **common),
    ]


register(
    Source(
        name="referrals",
        measures=("referral", "referral.to"),
        rows=_referral_rows,
        watches=(
            Watch(
                "referrals.Referral",
                ("from_unit_id", "to_unit_id", "sent_at", "kind", "status"),
                marks_on("sent_at", unit="from_unit_id"),
            ),
        ),
    )
)


# --- follow-ups -----------------------------------------------------------------------------


def _visit_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.followups.models import FollowUpVisit

    visits = on_date(
        in_units(FollowUpVisit.objects.all(), "person__unit_id", units), "visited_on", day
    )
    return [
        tally_rows(
            visits,
            unit="person__unit_id",
            day=date_of("visited_on"),
            measure="followup.visit",
            key=joined("outcome", "mode"),
        )
    ]


def _visit_days_of_person(values: dict[str, Any]) -> Iterable[Mark]:
    """A person who moves to another unit takes their visits along: every day they had a
    visit is recounted for the unit before and the unit after."""
    from xinqiao.followups.models import FollowUpVisit

    if values["unit_id"] is None or values["id"] is None:
        return []
    days = (
        FollowUpVisit.objects.filter(person_id=values["id"])
        .values_list("visited_on", flat=True)
        .distinct()
    )
    return [(values["unit_id"], d) for d in days]


register(
    Source(
        name="followup_visits",
        measures=("followup.visit",),
        rows=_visit_rows,
        watches=(
            Watch(
                "followups.FollowUpVisit",
                ("person_id", "visited_on", "outcome", "mode"),
                person_unit_on("visited_on"),
            ),
            Watch("people.Person", ("id", "unit_id"), _visit_days_of_person),
        ),
    )
)


def _plans_of_people_under_service(units: list[Any] | None) -> QuerySet[Any]:
    from xinqiao.followups.models import FollowUpPlan

    return in_units(under_service(FollowUpPlan.objects.all(), "person__"), "person__unit_id", units)


def _plan_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    plans = _plans_of_people_under_service(units)
    caseloads: list[Row] = [
        (unit_id, SNAPSHOT_DAY, "followup.caseload", id_key(responsible), n, 0)
        for unit_id, responsible, n in plans.values_list("person__unit_id", "responsible_id")
        .annotate(n=Count("pk"))
        .order_by()
    ]
    return [
        tally_rows(
            plans,
            unit="person__unit_id",
            day=SNAPSHOT_DAY,
            measure="followup.plan_due",
            key=text("next_due"),
        ),
        caseloads,
    ]


register(
    Source(
        name="followup_plans",
        measures=("followup.plan_due", "followup.caseload"),
        rows=_plan_rows,
        snapshot=True,
        watches=(
            Watch(
                "followups.FollowUpPlan",
                ("person_id", "next_due", "responsible_id"),
                person_snapshot,
            ),
            Watch("people.Person", PERSON_SERVICE_FIELDS, snapshot_of()),
        ),
    )
)


# --- counselling sessions -------------------------------------------------------------------


def _session_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.counselling.models import Session, SessionParticipant

    sessions = on_day(in_units(Session.objects.all(), "unit_id", units), "held_at", day)
    present = on_day(
        in_units(SessionParticipant.objects.filter(attended=True), "session__unit_id", units),
        "session__held_at",
        day,
    )
    return [
        tally_rows(
            sessions,
            unit="unit_id",
            day=local_date("held_at"),
            measure="session",
            key=joined("kind", "format"),
            amount=Sum("minutes"),
        ),
        tally_rows(
            present,
            unit="session__unit_id",
            day=local_date("session__held_at"),
            measure="session.people",
            key=joined("session__kind", "session__format"),
        ),
    ]


def _session_marks(values: dict[str, Any]) -> Iterable[Mark]:
    from xinqiao.counselling.models import Session

    rows = Session.objects.filter(pk=values["session_id"]).values_list("unit_id", "held_at")
    return [(unit_id, d) for unit_id, held in rows if (d := local_day(held)) is not None]


register(
    Source(
        name="sessions",
        measures=("session", "session.people"),
        rows=_session_rows,
        watches=(
            Watch(
                "counselling.Session",
                ("unit_id", "held_at", "kind", "format", "minutes"),
                marks_on("held_at"),
            ),
            Watch("counselling.SessionParticipant", ("session_id", "attended"), _session_marks),
        ),
    )
)


# --- hotline calls --------------------------------------------------------------------------


def _call_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.hotline.models import Call, CallProblem

    calls = on_day(in_units(Call.objects.all(), "centre_id", units), "started_at", day)
    problems = on_day(
        in_units(CallProblem.objects.all(), "call__centre_id", units), "call__started_at", day
    )
    common: dict[str, Any] = {"unit": "centre_id", "day": local_date("started_at")}
    return [
        tally_rows(
            calls,
            measure="call.hour",
            key=text(ExtractHour("started_at", tzinfo=local_tz())),
            **common,
        ),
        tally_rows(calls, measure="call.risk", key=text("risk"), **common),
        # A call counts once in each of its first-level categories (two sub-categories of one
        # group are one count), as in the centre's summary (xinqiao.hotline.summary).
        tally_rows(
            problems,
            unit="call__centre_id",
            day=local_date("call__started_at"),
            measure="call.category",
            key=text("group"),
            count=Count("call_id", distinct=True),
        ),
    ]


def _call_marks(values: dict[str, Any]) -> Iterable[Mark]:
    from xinqiao.hotline.models import Call

    rows = Call.objects.filter(pk=values["call_id"]).values_list("centre_id", "started_at")
    return [(c, d) for c, started in rows if (d := local_day(started)) is not None]


register(
    Source(
        name="calls",
        measures=("call.hour", "call.category", "call.risk"),
        rows=_call_rows,
        watches=(
            Watch(
                "hotline.Call",
                ("centre_id", "started_at", "risk"),
                marks_on("started_at", "centre_id"),
            ),
            # log_call creates the problems with bulk_create in the call's transaction (the
            # call's own mark covers them); any later change of a problem marks the call's day.
            Watch("hotline.CallProblem", ("call_id", "group"), _call_marks),
        ),
    )
)


# --- mailbox --------------------------------------------------------------------------------


def hours_between(start: Any, end: Any) -> int:
    """Whole hours from ``start`` to ``end`` (rounded down; never negative)."""
    return max(0, int((end - start).total_seconds() // 3600))


def _mailbox_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.hotline.models import MailboxMessage

    messages = on_day(in_units(MailboxMessage.objects.all(), "unit_id", units), "created_at", day)
    # The first answer is the first counsellor's reply (``answered_at`` is the latest one), as
    # in the centre's summary (xinqiao.hotline.summary).
    first = Min("replies__created_at", filter=Q(replies__author__isnull=False))
    rows: list[Row] = []
    for unit_id, created, kind, answered in (
        messages.annotate(first_answer=first)
        .values_list("unit_id", "created_at", "kind", "first_answer")
        .order_by()
        .iterator(chunk_size=5000)
    ):
        d = local_day(created) or SNAPSHOT_DAY  # created_at is never empty
        rows.append((unit_id, d, "mailbox", kind, 1, 0))
        if answered is not None:
            key = f"{kind}|{hours_between(created, answered)}"
            rows.append((unit_id, d, "mailbox.reply", key, 1, 0))
    return [rows]


def _message_marks(values: dict[str, Any]) -> Iterable[Mark]:
    from xinqiao.hotline.models import MailboxMessage

    rows = MailboxMessage.objects.filter(pk=values["message_id"]).values_list(
        "unit_id", "created_at"
    )
    return [(u, d) for u, created in rows if (d := local_day(created)) is not None]


register(
    Source(
        name="mailbox",
        measures=("mailbox", "mailbox.reply"),
        rows=_mailbox_rows,
        watches=(
            Watch(
                "hotline.MailboxMessage", ("unit_id", "created_at", "kind"), marks_on("created_at")
            ),
            Watch(
                "hotline.MailboxReply", ("message_id", "author_id", "created_at"), _message_marks
            ),
        ),
    )
)


# --- education reach ------------------------------------------------------------------------


def _content_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.content.models import ArticleStat

    stats = on_date(in_units(ArticleStat.objects.all(), "unit_id", units), "day", day)
    # An article's kind is fixed when it is created (content.actions.update_article keeps it).
    common: dict[str, Any] = {
        "unit": "unit_id",
        "day": date_of("day"),
        "key": text("article__kind"),
    }
    return [
        tally_rows(
            stats.filter(views__gt=0), measure="content.views", count=Sum("views"), **common
        ),
        tally_rows(
            stats.filter(completions__gt=0),
            measure="content.completions",
            count=Sum("completions"),
            **common,
        ),
    ]


def _stat_marks(values: dict[str, Any]) -> Iterable[Mark]:
    return [(values["unit_id"], values["day"])] if values["day"] else []


def article_stat_counted(unit_id: Any, day: date) -> None:
    """For ``content.public``: a view or completion added with ``QuerySet.update`` (which
    sends no signal) marks the unit's day. Creating the day's row marks it by the watch."""
    touch([(unit_id, "content", day)])


register(
    Source(
        name="content",
        measures=("content.views", "content.completions"),
        rows=_content_rows,
        watches=(
            Watch(
                "content.ArticleStat",
                ("unit_id", "day", "article_id", "views", "completions"),
                _stat_marks,
            ),
        ),
    )
)


# --- staffing -------------------------------------------------------------------------------


def _user_units(values: dict[str, Any]) -> Iterable[Mark]:
    """Every unit where the user holds a role (their activity or qualification counts
    there)."""
    from xinqiao.orgs.models import Membership

    user_id: Any = values.get("user_id", values.get("id"))
    units = Membership.objects.filter(user_id=user_id).values_list("unit_id", flat=True)
    return [(u, SNAPSHOT_DAY) for u in set(units)]


def _team_unit(values: dict[str, Any]) -> Iterable[Mark]:
    from xinqiao.orgs.models import Team

    units = Team.objects.filter(pk=values["team_id"]).values_list("unit_id", flat=True)
    return [(u, SNAPSHOT_DAY) for u in units]


def _staffing_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.orgs.models import Membership, Team, UnitKind
    from xinqiao.workbench.staffing import QUALIFIED_FOR_ISOLATION

    rows: list[Row] = []
    # Team sizes as in the staffing checks (xinqiao.workbench.staffing.community_teams): the
    # active teams and their members.
    teams = in_units(Team.objects.filter(is_active=True), "unit_id", units)
    for unit_id, kind, n in (
        teams.annotate(n=Count("members")).values_list("unit_id", "kind", "n").order_by()
    ):
        rows.append((unit_id, SNAPSHOT_DAY, "staff.team", f"{kind}|{n}", 1, n))
    roles = in_units(Membership.objects.filter(user__is_active=True), "unit_id", units)
    for unit_id, role, n in roles.values_list("unit_id", "role").annotate(n=Count("pk")).order_by():
        rows.append((unit_id, SNAPSHOT_DAY, "staff.role", role, n, 0))
    # Qualified staff who hold a role at an isolation site (workbench.staffing.site_staffing;
    # seed 002 篇6 三(三)2 具备专业资质的社会工作者或心理咨询师).
    qualified = roles.filter(
        unit__kind=UnitKind.ISOLATION_SITE,
        user__staff_profile__qualification__in=QUALIFIED_FOR_ISOLATION,
    )
    for unit_id, n in (
        qualified.values_list("unit_id").annotate(n=Count("user_id", distinct=True)).order_by()
    ):
        rows.append((unit_id, SNAPSHOT_DAY, "staff.site", id_key(unit_id), n, 0))
    return [rows]


register(
    Source(
        name="staffing",
        measures=("staff.team", "staff.role", "staff.site"),
        rows=_staffing_rows,
        snapshot=True,
        watches=(
            Watch("orgs.Team", ("unit_id", "kind", "is_active"), snapshot_of()),
            Watch("orgs.TeamMember", ("team_id", "user_id"), _team_unit),
            Watch("orgs.Membership", ("unit_id", "user_id", "role"), snapshot_of()),
            Watch("orgs.StaffProfile", ("user_id", "qualification"), _user_units),
            Watch("accounts.User", ("id", "is_active"), _user_units),
        ),
    )
)


def _isolation_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    """People in centralised isolation at a site, as in the site's staffing check
    (workbench.staffing._isolated: no end date, or an end date today or later; the person's
    file not erased): open records on the snapshot day, the others on their end date, so
    "today" is a range read and needs no daily recount."""
    from xinqiao.people.models import IsolationKind, IsolationRecord

    records = in_units(
        IsolationRecord.objects.filter(
            kind=IsolationKind.CENTRALISED, site__isnull=False, person__erased_at__isnull=True
        ),
        "site_id",
        units,
    )
    rows: list[Row] = []
    if day is None or day == SNAPSHOT_DAY:
        for site_id, n in (
            records.filter(ended_on__isnull=True)
            .values_list("site_id")
            .annotate(n=Count("person_id", distinct=True))
            .order_by()
        ):
            rows.append((site_id, SNAPSHOT_DAY, "isolation.open", id_key(site_id), n, 0))
    if day != SNAPSHOT_DAY:
        ended = on_date(records.filter(ended_on__isnull=False), "ended_on", day)
        for site_id, ended_on, n in (
            ended.values_list("site_id", "ended_on")
            .annotate(n=Count("person_id", distinct=True))
            .order_by()
        ):
            rows.append((site_id, ended_on, "isolation.until", id_key(site_id), n, 0))
    return [rows]


def _isolation_marks(values: dict[str, Any]) -> Iterable[Mark]:
    if values["site_id"] is None:
        return []
    return [(values["site_id"], values["ended_on"] or SNAPSHOT_DAY)]


def _isolations_of_person(values: dict[str, Any]) -> Iterable[Mark]:
    from xinqiao.people.models import IsolationRecord

    records = IsolationRecord.objects.filter(person_id=values["id"], site__isnull=False)
    return [
        (site_id, ended_on or SNAPSHOT_DAY)
        for site_id, ended_on in records.values_list("site_id", "ended_on")
    ]


register(
    Source(
        name="isolation",
        measures=("isolation.open", "isolation.until"),
        rows=_isolation_rows,
        watches=(
            Watch(
                "people.IsolationRecord",
                ("site_id", "kind", "ended_on", "person_id"),
                _isolation_marks,
            ),
            Watch("people.Person", ("id", "erased_at"), _isolations_of_person),
        ),
    )
)


# --- severe mental disorders ----------------------------------------------------------------


def _smi_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    """Registered patients whose file is under service, by the date of their fourth latest
    follow-up: the patient is under managed follow-up (规范管理) on a day when that date is
    within the year before it — at least four follow-ups a year (国家基本公共卫生服务规范
    第三版, 严重精神障碍患者管理服务规范; xinqiao.risk.smi.MIN_FOLLOWUPS_PER_YEAR;
    seed 002 "严重精神障碍规范管理率达到90%以上")."""
    from xinqiao.risk.models import SmiFollowUp, SmiPatient
    from xinqiao.risk.smi import MIN_FOLLOWUPS_PER_YEAR

    nth = MIN_FOLLOWUPS_PER_YEAR - 1
    fourth = (
        SmiFollowUp.objects.filter(patient_id=OuterRef("pk"))
        .order_by("-date", "-id")
        .values("date")[nth : nth + 1]
    )
    patients = in_units(
        under_service(SmiPatient.objects.all(), "person__"), "person__unit_id", units
    )
    rows: list[Row] = [
        (unit_id, SNAPSHOT_DAY, "smi.managed", str(d4) if d4 else "", n, 0)
        for unit_id, d4, n in patients.annotate(d4=Subquery(fourth, output_field=DateField()))
        .values_list("person__unit_id", "d4")
        .annotate(n=Count("pk"))
        .order_by()
    ]
    return [rows]


def _patient_snapshot(values: dict[str, Any]) -> Iterable[Mark]:
    return person_snapshot({"person_id": values["patient_id"]})


register(
    Source(
        name="smi",
        measures=("smi.managed",),
        rows=_smi_rows,
        snapshot=True,
        watches=(
            Watch("risk.SmiPatient", ("person_id",), person_snapshot),
            Watch("risk.SmiFollowUp", ("patient_id", "date"), _patient_snapshot),
            Watch("people.Person", PERSON_SERVICE_FIELDS, snapshot_of()),
        ),
    )
)
