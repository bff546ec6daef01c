"""Dashboard sections of the services beyond people, assessments and alerts (referrals,
follow-ups, counselling sessions, the hotline and mailbox, education, staffing, the seeds'
indicators): registered with ``indicators.section`` from the aggregate tables of
``sources_services`` (issue #9 item 1; R-REPORT).

Counts go through ``count_table`` (small cells hidden with complementary suppression when the
figures leave the owning unit); a rate is shown only where its numerator and denominator are
both shown, so a rate over fewer than threshold people is hidden too; medians and percentiles
over fewer than threshold people are hidden (``small``). Figures about "today" (plans overdue,
people in isolation, patients under managed follow-up) are read from keys kept by date, so they
are right on any day without a daily recount (see ``sources_services``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.reports import tally
from xinqiao.reports.indicators import (
    NOT_APPLICABLE,
    Context,
    child_rows,
    count_table,
    key_count,
    percentile,
    section,
    series_table,
    small,
)
from xinqiao.reports.tables import Cell, Row, Section, Table

Labels = Sequence[tuple[str, str]]


# --- helpers --------------------------------------------------------------------------------


def choices(model_choices: Any) -> list[tuple[str, str]]:
    return [(str(value), str(label)) for value, label in model_choices.choices]


def with_unknown(rows: Labels, keys: Iterable[str]) -> list[tuple[str, str]]:
    """The known rows, then any key the data has that the list does not (kept visible)."""
    known = {code for code, _label in rows}
    return [*rows, *((k, k or _("Not given")) for k in sorted(set(keys) - known))]


def keys_of(counts: tally.Counts, measure: str, part: int = 0) -> set[str]:
    return {key.split("|")[part] for (m, key) in counts if m == measure}


def key_sum(counts: tally.Counts, measure: str, match: Callable[[list[str]], bool]) -> int:
    """The count of every key of ``measure`` whose parts satisfy ``match``."""
    return sum(n for (m, key), (n, _a) in counts.items() if m == measure and match(key.split("|")))


def amount_sum(counts: tally.Counts, measure: str, match: Callable[[list[str]], bool]) -> int:
    return sum(a for (m, key), (_n, a) in counts.items() if m == measure and match(key.split("|")))


def per_child(by_child: dict[Any, tally.Counts]) -> dict[str, tally.Counts]:
    return {str(k): v for k, v in by_child.items()}


def drop_total_column(table: Table, keep: int) -> Table:
    """Keep the first ``keep`` columns: a count table's "Total" column over columns of
    different things (views and completions, teams and members) means nothing."""
    table.columns = table.columns[:keep]
    for row in table.rows:
        row.cells = row.cells[:keep]
    return table


def rate(numerator: Cell, denominator: Cell) -> Cell:
    """A percentage (one decimal) where both counts are shown; hidden where either is."""
    if denominator == 0:
        return NOT_APPLICABLE
    if not isinstance(numerator, int) or not isinstance(denominator, int):
        return None
    return round(100 * numerator / denominator, 1)


def with_rate(table: Table, header: str) -> Table:
    """Add the share of the first column in the row total (the last column)."""
    table.columns.append(header)
    for row in table.rows:
        row.cells.append(rate(row.cells[0], row.cells[-1]))
    return table


def share_table(
    ctx: Context,
    *,
    code: str,
    title: str,
    label_header: str,
    rows: Labels,
    yes: str,
    no: str,
    value: Callable[[str, bool], int],
    rate_header: str,
    note: str,
) -> Table:
    """Numerator and the rest of the denominator as counts (suppressed together, with the
    denominator as their row total), and the rate where both are shown."""
    table = count_table(
        ctx,
        code=code,
        title=title,
        label_header=label_header,
        rows=rows,
        columns=[("yes", yes), ("no", no)],
        value=lambda r, c: value(r, c == "yes"),
        chart="bar",
        note=note,
    )
    return with_rate(table, rate_header)


def period_rows(ctx: Context, label: str) -> list[tuple[str, str]]:
    """One row per child unit, or one row for the unit itself when it has none."""
    return child_rows(ctx) if ctx.children else [("", label)]


def counts_by_row(ctx: Context, *measures: str) -> Callable[[str], tally.Counts]:
    """The counts of a row of ``period_rows``: a child unit (``row`` is its id, read once for
    all children) or the unit itself (``row`` "")."""
    children = per_child(ctx.by_child(*measures)) if ctx.children else {}

    def counts(row: str) -> tally.Counts:
        return children.get(row, {}) if row else ctx.counts(*measures)

    return counts


# --- referrals ------------------------------------------------------------------------------


@section
def referrals_section(ctx: Context) -> Section:
    from xinqiao.referrals.models import ReferralKind, ReferralStatus

    counts = ctx.counts("referral", "referral.to")
    statuses = choices(ReferralStatus)
    note = _(
        "Referrals sent by units here in the period, by the day they were sent; the outcome "
        "is the referral's status now (done: the receiving unit recorded the outcome)."
    )
    destinations = with_unknown(
        [(k, label) for k, label in choices(UnitKind)], keys_of(counts, "referral.to")
    )
    tables = [
        count_table(
            ctx,
            code="referrals_by_destination",
            title=_("Referrals by destination and outcome"),
            label_header=_("Receiving unit"),
            rows=destinations,
            columns=statuses,
            value=lambda r, c: key_count(counts, "referral.to", f"{r}|{c}"),
            note=note,
        ),
        count_table(
            ctx,
            code="referrals_by_kind",
            title=_("Referrals by kind and outcome"),
            label_header=_("Kind of referral"),
            rows=with_unknown(choices(ReferralKind), keys_of(counts, "referral")),
            columns=statuses,
            value=lambda r, c: key_count(counts, "referral", f"{r}|{c}"),
        ),
    ]
    if ctx.children:
        children = per_child(ctx.by_child("referral"))
        tables.append(
            count_table(
                ctx,
                code="referrals_by_unit",
                title=_("Referrals by sending unit and outcome"),
                label_header=_("Unit"),
                rows=child_rows(ctx),
                columns=statuses,
                value=lambda r, c: key_sum(children.get(r, {}), "referral", lambda k: k[-1] == c),
            )
        )
    return Section("referrals", _("Referrals"), tables)


# --- follow-ups -----------------------------------------------------------------------------

# Completion of follow-ups in a period (R-FOLLOW): of the follow-ups that fell due in the period,
# the share done — done: visits in the period that reached the person; not done: plans of
# people under service whose next due date is in the period and before today (still open
# today). A visit counts on its date, whatever due date it met; an early visit for a date after
# the period counts as done in the period. Overdue now: plans whose next due date is before
# today, among the plans of people under service (the follow-ups' own overdue rate,
# xinqiao.followups.stats, counts people without a plan too; the daily job gives everyone
# under service a plan).


def _done(counts: tally.Counts) -> int:
    return key_sum(counts, "followup.visit", lambda k: k[0] == "reached")


def _due_between(counts: tally.Counts, first: date, last: date) -> int:
    lo, hi = first.isoformat(), last.isoformat()
    return sum(
        n for (m, key), (n, _a) in counts.items() if m == "followup.plan_due" and lo <= key <= hi
    )


def _overdue(counts: tally.Counts, today: date) -> tuple[int, int]:
    """(overdue, not overdue) among the plans."""
    before = today.isoformat()
    late = sum(
        n for (m, key), (n, _a) in counts.items() if m == "followup.plan_due" and key < before
    )
    plans = sum(n for (m, _k), (n, _a) in counts.items() if m == "followup.plan_due")
    return late, plans - late


@section
def followups_section(ctx: Context) -> Section:
    from xinqiao.followups.models import VisitMode, VisitOutcome

    today = timezone.localdate()
    measures = ("followup.visit", "followup.plan_due")
    counts = ctx.counts(*measures)
    visits = count_table(
        ctx,
        code="followup_visits",
        title=_("Follow-up visits in the period, by outcome and mode"),
        label_header=_("Outcome"),
        rows=choices(VisitOutcome),
        columns=choices(VisitMode),
        value=lambda r, c: key_count(counts, "followup.visit", f"{r}|{c}"),
    )
    last_due = min(ctx.period.end, today - timedelta(days=1))

    counts_of = counts_by_row(ctx, *measures)

    def completion(row: str, done: bool) -> int:
        mine = counts_of(row)
        if done:
            return _done(mine)
        return _due_between(mine, ctx.period.start, last_due) if last_due >= ctx.period.start else 0

    def overdue(row: str, late: bool) -> int:
        return _overdue(counts_of(row), today)[0 if late else 1]

    label = ctx.unit.full_name
    tables = [
        visits,
        share_table(
            ctx,
            code="followup_completion",
            title=_("Completion of follow-ups that fell due in the period"),
            label_header=_("Unit"),
            rows=period_rows(ctx, label),
            yes=_("Done (person reached)"),
            no=_("Due, still open"),
            value=completion,
            rate_header=_("Completion (%)"),
            note=_(
                "Done: visits in the period that reached the person. Still open: follow-ups "
                "that fell due in the period (before today) and are not done. Completion = "
                "done ÷ (done + still open)."
            ),
        ),
        share_table(
            ctx,
            code="followup_overdue",
            title=_("Follow-ups overdue today"),
            label_header=_("Unit"),
            rows=period_rows(ctx, label),
            yes=_("Overdue"),
            no=_("Not overdue"),
            value=overdue,
            rate_header=_("Overdue (%)"),
            note=_(
                "Plans of people under service whose next due date is before today, whatever "
                "the period."
            ),
        ),
    ]
    return Section("followups", _("Follow-ups"), tables)


# --- counselling sessions -------------------------------------------------------------------


@section
def sessions_section(ctx: Context) -> Section:
    from xinqiao.counselling.models import SessionFormat, SessionKind

    counts = ctx.counts("session", "session.people")
    kinds = with_unknown(choices(SessionKind), keys_of(counts, "session"))
    formats = choices(SessionFormat)
    sessions = count_table(
        ctx,
        code="sessions_by_kind",
        title=_("Counselling sessions in the period, by kind and format"),
        label_header=_("Kind of session"),
        rows=kinds,
        columns=formats,
        value=lambda r, c: key_count(counts, "session", f"{r}|{c}"),
    )
    people = count_table(
        ctx,
        code="session_people_by_kind",
        title=_("People who attended counselling sessions, by kind and format"),
        label_header=_("Kind of session"),
        rows=kinds,
        columns=formats,
        value=lambda r, c: key_count(counts, "session.people", f"{r}|{c}"),
        note=_("A person at three sessions counts three times."),
    )
    tables = [sessions, _minutes_table(ctx, sessions, counts, formats), people]
    if ctx.children:
        children = per_child(ctx.by_child("session"))
        tables.append(
            count_table(
                ctx,
                code="sessions_by_unit",
                title=_("Counselling sessions by unit and kind"),
                label_header=_("Unit"),
                rows=child_rows(ctx),
                columns=choices(SessionKind),
                value=lambda r, c: key_sum(children.get(r, {}), "session", lambda k: k[0] == c),
            )
        )
    return Section("sessions", _("Counselling sessions"), tables)


def _minutes_table(ctx: Context, sessions: Table, counts: tally.Counts, formats: Labels) -> Table:
    """Minutes of counselling in the cells of the sessions table, hidden where the number of
    sessions is hidden (the minutes of one session tell how many there were)."""

    def minutes(kind: str, index: int) -> int:
        fmt = formats[index][0] if index < len(formats) else None  # else the Total column
        return amount_sum(
            counts,
            "session",
            lambda k: kind in ("total", k[0]) and fmt in (None, k[1]),
        )

    rows = [
        Row(
            row.label,
            [None if c is None else minutes(row.code, i) for i, c in enumerate(row.cells)],
            code=row.code,
        )
        for row in sessions.rows
    ]
    return Table(
        code="session_minutes_by_kind",
        title=_("Minutes of counselling in the period, by kind and format"),
        columns=list(sessions.columns),
        rows=rows,
        label_header=sessions.label_header,
        chart="bar",
        unit=_("minutes"),
        suppressed=ctx.suppress,
    )


# --- hotline --------------------------------------------------------------------------------


@section
def hotline_section(ctx: Context) -> Section:
    from xinqiao.hotline.categories import TAXONOMY
    from xinqiao.hotline.models import TextRisk

    counts = ctx.counts("call.hour", "call.category", "call.risk")
    calls = [("n", _("Calls"))]
    # Every hour and every risk level is listed once there are calls (an hour without calls
    # is a fact worth seeing); a unit without any has empty tables.
    some = bool(counts)
    tables = [
        count_table(
            ctx,
            code="calls_by_hour",
            title=_("Hotline calls in the period, by hour of day"),
            label_header=_("Hour"),
            rows=[(str(h), f"{h:02d}:00–{h:02d}:59") for h in range(24)],
            columns=calls,
            value=lambda r, c: key_count(counts, "call.hour", r),
            drop_empty_rows=not some,
            note=_("By the local time the call started."),
        ),
        count_table(
            ctx,
            code="calls_by_category",
            title=_("Hotline calls in the period, by problem category"),
            label_header=_("Category"),
            rows=with_unknown(
                [(c.code, str(c.label)) for c in TAXONOMY], keys_of(counts, "call.category")
            ),
            columns=calls,
            value=lambda r, c: key_count(counts, "call.category", r),
            note=_(
                "A call with problems in two categories counts in both, so the total can be "
                "more than the number of calls."
            ),
        ),
        count_table(
            ctx,
            code="calls_by_risk",
            title=_("Hotline calls in the period, by risk"),
            label_header=_("Risk"),
            rows=choices(TextRisk),
            columns=calls,
            value=lambda r, c: key_count(counts, "call.risk", r),
            drop_empty_rows=not some,
        ),
        series_table(
            ctx,
            code="calls_over_time",
            title=_("Hotline calls over time"),
            measures=["call.risk"],
            columns=calls,
            column_of=lambda m, k: "n",
        ),
    ]
    return Section("hotline", _("Hotline"), tables)


# --- mailbox --------------------------------------------------------------------------------


def _reply_hours(counts: tally.Counts, kind: str | None) -> dict[int, int]:
    result: dict[int, int] = {}
    for (m, key), (n, _a) in counts.items():
        if m != "mailbox.reply":
            continue
        k, hours = key.split("|", 1)
        if kind is None or k == kind:
            result[int(hours)] = result.get(int(hours), 0) + n
    return result


@section
def mailbox_section(ctx: Context) -> Section:
    from xinqiao.hotline.models import MessageKind

    counts = ctx.counts("mailbox", "mailbox.reply")
    kinds = with_unknown(choices(MessageKind), keys_of(counts, "mailbox"))

    def value(kind: str, column: str) -> int:
        answered = sum(_reply_hours(counts, kind).values())
        return answered if column == "answered" else key_count(counts, "mailbox", kind) - answered

    volume = count_table(
        ctx,
        code="mailbox_by_kind",
        title=_("Messages received in the period, by kind"),
        label_header=_("Kind"),
        rows=kinds,
        columns=[("answered", _("Answered")), ("waiting", _("Not answered yet"))],
        value=value,
        note=_("Answered: a counsellor has replied. The total is the messages received."),
    )
    # The number answered is shown here only where the volume table shows it: otherwise a
    # hidden "not answered yet" count would follow from the received total.
    shown_answered = {row.code: row.cells[0] for row in volume.rows}
    rows: list[Row] = []
    for kind, label in [*kinds, ("", _("All kinds"))]:
        hist = _reply_hours(counts, kind or None)
        n = sum(hist.values())
        if n == 0:
            if not kind:
                rows.append(Row(label, [0, NOT_APPLICABLE, NOT_APPLICABLE], code="all"))
            continue
        hidden = small(ctx, n) or shown_answered.get(kind or "total") is None
        cells: list[Cell] = [
            None if hidden else n,
            None if hidden else percentile(hist, 0.5),
            None if hidden else percentile(hist, 0.9),
        ]
        rows.append(Row(label, cells, code=kind or "all"))
    times = Table(
        code="mailbox_response_times",
        title=_("Time to the first answer (hours)"),
        columns=[_("Answered"), _("Median hours"), _("90th percentile hours")],
        rows=rows,
        label_header=_("Kind"),
        chart="none",
        unit=_("hours"),
        note=_(
            "Whole hours from the message to a counsellor's first reply, for the messages of "
            "the period answered so far; nearest-rank percentiles."
        ),
        suppressed=ctx.suppress,
    )
    return Section("mailbox", _("Mailbox and online consultation"), [volume, times])


# --- education ------------------------------------------------------------------------------


@section
def education_section(ctx: Context) -> Section:
    from xinqiao.content.models import Kind

    counts = ctx.counts("content.views", "content.completions")
    columns = [("content.views", _("Views")), ("content.completions", _("Completions"))]
    kinds = with_unknown(choices(Kind), keys_of(counts, "content.views"))
    note = _(
        "Views and completions of articles and micro-lessons on the units' public portals "
        "(counted per visit, not per person)."
    )
    tables = [
        drop_total_column(
            count_table(
                ctx,
                code="education_reach",
                title=_("Education reach in the period"),
                label_header=_("Kind"),
                rows=kinds,
                columns=columns,
                value=lambda r, c: key_count(counts, c, r),
                note=note,
            ),
            2,
        ),
        drop_total_column(
            series_table(
                ctx,
                code="education_over_time",
                title=_("Education reach over time"),
                measures=["content.views", "content.completions"],
                columns=columns,
                column_of=lambda m, k: m,
            ),
            2,
        ),
    ]
    if ctx.children:
        children = per_child(ctx.by_child("content.views", "content.completions"))
        tables.append(
            drop_total_column(
                count_table(
                    ctx,
                    code="education_by_unit",
                    title=_("Education reach by unit"),
                    label_header=_("Unit"),
                    rows=child_rows(ctx),
                    columns=columns,
                    value=lambda r, c: key_sum(children.get(r, {}), c, lambda k: True),
                ),
                2,
            )
        )
    return Section("education", _("Education reach"), tables)


# --- staffing -------------------------------------------------------------------------------


@section
def staffing_section(ctx: Context) -> Section:
    from xinqiao.orgs.models import COMMUNITY_TEAM_MIN, TeamKind
    from xinqiao.orgs.permissions import Role

    counts = ctx.counts("staff.team", "staff.role", "followup.caseload")

    def team_value(kind: str, column: str) -> int:
        if column == "teams":
            return key_sum(counts, "staff.team", lambda k: k[0] == kind)
        if column == "members":
            return amount_sum(counts, "staff.team", lambda k: k[0] == kind)
        if kind != TeamKind.COMMUNITY:
            return 0
        # seed 000 三(二) "各村、社区组建3-5人心理疏导小分队"
        return key_sum(
            counts, "staff.team", lambda k: k[0] == kind and int(k[1]) < COMMUNITY_TEAM_MIN
        )

    teams = drop_total_column(
        count_table(
            ctx,
            code="teams_by_kind",
            title=_("Active teams now, by kind"),
            label_header=_("Team"),
            rows=choices(TeamKind),
            columns=[
                ("teams", _("Teams")),
                ("members", _("Members")),
                ("small", _("Community teams under 3 members")),
            ],
            value=team_value,
            note=_("A community counselling team needs 3–5 members (seed 000 三(二))."),
        ),
        3,
    )
    roles = count_table(
        ctx,
        code="staff_by_role",
        title=_("Roles held now, by role"),
        label_header=_("Role"),
        rows=choices(Role),
        columns=[("n", _("Staff"))],
        value=lambda r, c: key_count(counts, "staff.role", r),
        note=_("Active accounts; someone with a role in two units counts in both."),
    )
    return Section(
        "staffing",
        _("Staffing"),
        [teams, roles, _caseload_table(ctx, counts), _isolation_table(ctx)],
    )


def _caseload_table(ctx: Context, counts: tally.Counts) -> Table:
    """People under service per responsible worker (the follow-up plan's responsible worker,
    as in the workbench's caseloads): how many workers, the median, 90th percentile and
    largest caseload, and the people without a responsible worker."""
    loads: dict[int, int] = {}
    workers = nobody = people = 0
    for (m, key), (n, _a) in counts.items():
        if m != "followup.caseload" or not n:
            continue
        if key:
            workers += 1
            people += n
            loads[n] = loads.get(n, 0) + 1
        else:
            nobody += n
    hidden = small(ctx, people) or small(ctx, workers)
    cells: list[Cell] = (
        [0, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE]
        if not workers
        else [
            None if hidden else workers,
            None if hidden else percentile(loads, 0.5),
            None if hidden else percentile(loads, 0.9),
            None if hidden else max(loads),
        ]
    )
    cells.append(None if small(ctx, nobody) else nobody)
    return Table(
        code="caseloads",
        title=_("Caseloads now: people under service per responsible worker"),
        columns=[
            _("Workers with a caseload"),
            _("Median caseload"),
            _("90th percentile caseload"),
            _("Largest caseload"),
            _("People without a responsible worker"),
        ],
        rows=[Row(_("All workers"), cells, code="all")],
        label_header="",
        chart="none",
        note=_("The worker named as responsible on each follow-up plan; nearest-rank percentiles."),
        suppressed=ctx.suppress,
    )


def _isolation_table(ctx: Context) -> Table:
    """Each isolation site in the unit's area: the people in centralised isolation there today
    against the qualified staff holding a role there, and the recommended staffing (seed 002
    篇6 三(三)2: 6–9 qualified social workers or counsellors per 200 people isolated;
    xinqiao.orgs.staffing)."""
    from xinqiao.orgs.staffing import isolation_staffing

    today = timezone.localdate()
    # Open records are on the snapshot day, the others on their end date: today or later.
    counts = tally.read(
        ctx.unit, ["isolation.open", "isolation.until", "staff.site"], today, date.max
    )
    isolated: dict[str, int] = {}
    staff: dict[str, int] = {}
    for (m, key), (n, _a) in counts.items():
        target = staff if m == "staff.site" else isolated
        target[key] = target.get(key, 0) + n
    sites = {
        str(u.pk): u
        for u in Unit.objects.filter(
            kind=UnitKind.ISOLATION_SITE, path__startswith=ctx.unit.path, is_active=True
        )
    }
    rows: list[Row] = []
    for key in sorted(set(isolated) | set(staff) | set(sites), key=lambda k: _site_name(sites, k)):
        people, qualified = isolated.get(key, 0), staff.get(key, 0)
        check = isolation_staffing(people, qualified)
        hide_people, hide_staff = small(ctx, people), small(ctx, qualified)
        per_worker: Cell = round(people / qualified, 1) if qualified else NOT_APPLICABLE
        rows.append(
            Row(
                _site_name(sites, key),
                [
                    None if hide_people else people,
                    None if hide_staff else qualified,
                    None if hide_people or hide_staff else per_worker,
                    None if hide_people else f"{check.needed_min}–{check.needed_max}",
                    None if hide_people or hide_staff else check.short_by,
                ],
                code=key,
            )
        )
    return Table(
        code="isolation_sites",
        title=_("Isolation sites today: people isolated and qualified staff"),
        columns=[
            _("People in isolation"),
            _("Qualified staff"),
            _("People per qualified staff member"),
            _("Recommended staff"),
            _("Short by"),
        ],
        rows=rows,
        label_header=_("Isolation site"),
        chart="none",
        note=_(
            "6–9 qualified social workers or counsellors are recommended for every 200 people "
            "in centralised isolation (seed 002 篇6 三(三)2)."
        ),
        suppressed=ctx.suppress,
    )


def _site_name(sites: dict[str, Unit], key: str) -> str:
    unit = sites.get(key)
    return unit.name if unit is not None else _("Inactive site")


# --- the seeds' indicators ------------------------------------------------------------------


def _managed(counts: tally.Counts, today: date) -> tuple[int, int]:
    """(under managed follow-up today, not) among the registered patients: four follow-ups
    or more in the year before today (risk.smi_actions.followups_in_last_year counts those
    after today − 365 days), i.e. the fourth latest follow-up after that day."""
    since = (today - timedelta(days=365)).isoformat()
    managed = sum(
        n for (m, key), (n, _a) in counts.items() if m == "smi.managed" and key and key > since
    )
    patients = sum(n for (m, _k), (n, _a) in counts.items() if m == "smi.managed")
    return managed, patients - managed


@section
def seed_indicators_section(ctx: Context) -> Section:
    today = timezone.localdate()
    counts_of = counts_by_row(ctx, "smi.managed")

    def managed(row: str, yes: bool) -> int:
        return _managed(counts_of(row), today)[0 if yes else 1]

    smi = share_table(
        ctx,
        code="smi_managed",
        title=_("Patients with a severe mental disorder under managed follow-up today"),
        label_header=_("Unit"),
        rows=period_rows(ctx, ctx.unit.full_name),
        yes=_("Managed (4 or more follow-ups in the last year)"),
        no=_("Not managed"),
        value=managed,
        rate_header=_("Managed (%)"),
        note=_(
            "Registered patients whose file is under service. Managed: at least four follow-ups "
            "in the last 365 days (national basic public health service specification, 3rd "
            "edition). Target: at least 90 in 100 (seed 002)."
        ),
    )
    return Section(
        "seed_indicators", _("Indicators of the work plans"), [smi, _counselling_rooms(ctx)]
    )


def _counselling_rooms(ctx: Context) -> Table:
    """Communities (and streets) with a counselling room or service station (心理咨询室建成率,
    seed 002: 以镇村、社区为单位 … 达到80%以上): one with an active service station in its subtree.
    Read from the org tree itself, a table of units (a few thousand rows in a city), and not
    suppressed: these are counts of units, not of people."""
    units = list(
        Unit.objects.filter(
            path__startswith=ctx.unit.path,
            is_active=True,
            kind__in=[UnitKind.COMMUNITY, UnitKind.STREET, UnitKind.SERVICE_STATION],
        ).values_list("kind", "path")
    )
    stations = [path for kind, path in units if kind == UnitKind.SERVICE_STATION]
    levels = [
        (str(UnitKind.COMMUNITY), _("Communities and villages")),
        (str(UnitKind.STREET), _("Streets and townships")),
    ]

    # Every unit above a station (its path is a prefix of the station's): one pass.
    with_station = {
        station[: i + 1] for station in stations for i, c in enumerate(station) if c == "/"
    }

    def value(level: str, yes: bool) -> int:
        return sum(1 for kind, path in units if kind == level and (path in with_station) == yes)

    plain = dataclasses.replace(ctx, suppress=False)
    table = share_table(
        plain,
        code="counselling_rooms",
        title=_("Communities and streets with a counselling room or service station"),
        label_header=_("Level"),
        rows=levels,
        yes=_("With a room or station"),
        no=_("Without"),
        value=value,
        rate_header=_("With one (%)"),
        note=_(
            "A unit counts when an active service station (心灵驿站) is registered in it or "
            "below it. Target: at least 80 in 100 communities and villages (seed 002). Counts of "
            "units, not of people: not suppressed."
        ),
    )
    # Levels are not parts of one whole: their sum is no total.
    table.rows = [r for r in table.rows if r.code != "total"]
    return table
