"""Effect evaluation (效果评估): issue #9 item 2, MISSION.md R-REPORT ("change in scores before
and after intervention"); small counts hidden outside the unit that keeps the files (issue #9
item 4, R-PRIVACY). ``docs/effect-evaluation.md`` has the definitions and their sources.

For a unit's subtree (the person's file is kept in it), an instrument with change criteria
(``xinqiao.instruments.change.CRITERIA``: PHQ-9 and GAD-7), a period and optionally a
counselling programme: every person whose post score falls in the period, with their baseline
and post score as ``xinqiao.counselling.outcomes`` pairs them (first against latest; for a
programme, the baseline on or before its start and the latest after it, up to its end), each
pair classified by ``change.classify`` (Jacobson & Truax 1991 reliable change; Gyani et al.
2013 caseness and recovery). Counted for the unit, for each unit directly below it and for each
target group the person was in on the day of the post score.

Computed on demand from the raw assessment rows: a pre/post pair per person is not a count the
aggregate tables (``xinqiao.reports.models``) keep. The query is bounded: completed assessments
of the one instrument asked for, of people filed in the subtree, completed by the end of the
window, of people with such a score in the period; fetched with ``values_list`` (no model
instances), one row per score.

What is published (``suppress``): every count the page names is a cell or a margin of one of
four tables per breakdown (see ``TABLES``), each protected by
``xinqiao.reports.cells.suppress_table`` (complementary suppression); means and shares are
shown only over 5 or more people whose count is shown. The tables are chained (the cases of
one are the row totals of the next); two linked tables are protected independently only when
none of the totals they share is hidden, otherwise the later one's cells are hidden. A target
group is protected with the rest of the people as a second row, against the unit's totals.
tests/test_effect_page.py attacks the result with linear algebra over the people's classes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from xinqiao.assessments.models import Assessment, AssessmentStatus
from xinqiao.counselling import outcomes
from xinqiao.counselling.models import Programme, SessionParticipant
from xinqiao.instruments.change import CRITERIA, Change, classify
from xinqiao.orgs.models import Unit
from xinqiao.people.models import GroupMembership, TargetGroup
from xinqiao.reports.cells import Published, suppress_table
from xinqiao.reports.periods import Period

Cell = int | float | str | None  # None: hidden; NA: nothing to compute over
NA = "—"
INSTRUMENTS: tuple[str, ...] = tuple(CRITERIA)
SELF = "self"  # the people whose files are kept at the unit itself, not below it

CHANGE_CLASSES = ("improved", "no_change", "deteriorated")
RECOVERY_CLASSES = ("reliably_recovered", "recovered_only", "not_recovered", "not_case")


def threshold() -> int:
    return int(settings.XINQIAO_SMALL_CELL_THRESHOLD)


# --- counting --------------------------------------------------------------------------------


@dataclass
class Counts:
    """The outcome classes of a set of people, and the sums of their scores."""

    change: list[int] = field(default_factory=lambda: [0, 0, 0])
    recovery: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    pre_sum: int = 0
    post_sum: int = 0

    @property
    def people(self) -> int:
        return sum(self.change)

    def add(self, result: Change, pre: int, post: int) -> None:
        if result.reliably_improved:
            self.change[0] += 1
        elif result.reliably_deteriorated:
            self.change[2] += 1
        else:
            self.change[1] += 1
        if result.reliably_recovered:
            self.recovery[0] += 1
        elif result.recovered:
            self.recovery[1] += 1
        elif result.case_at_first:
            self.recovery[2] += 1
        else:
            self.recovery[3] += 1
        self.pre_sum += pre
        self.post_sum += post

    def minus(self, other: Counts) -> Counts:
        return Counts(
            change=[a - b for a, b in zip(self.change, other.change, strict=True)],
            recovery=[a - b for a, b in zip(self.recovery, other.recovery, strict=True)],
            pre_sum=self.pre_sum - other.pre_sum,
            post_sum=self.post_sum - other.post_sum,
        )


@dataclass(frozen=True)
class Pair:
    """One person's baseline and post score (kept inside this module: no identity)."""

    child: str  # the hex id of the unit below the evaluated one, or SELF
    groups: frozenset[str]
    pre: int
    post: int


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def window(period: Period, programme: Programme | None) -> tuple[datetime | None, datetime]:
    """The programme's start (baseline on or before it) and the end of the scores counted:
    the period's end, or the programme's if that is earlier."""
    end = datetime.combine(period.end, time.max, tzinfo=_tz())
    if programme is None:
        return None, end
    start, programme_end = outcomes.bounds(programme.starts_on, programme.ends_on)
    if programme_end is not None and programme_end < end:
        end = programme_end
    return start, end


def pairs(
    unit: Unit, period: Period, instrument: str, programme: Programme | None = None
) -> list[Pair]:
    """The pre/post pair of every person filed in ``unit``'s subtree whose post score on
    ``instrument`` falls in ``period`` (and within ``programme``, if given)."""
    if instrument not in CRITERIA:
        raise ValueError(f"no change criteria for {instrument!r}")
    start, end = window(period, programme)
    period_start = datetime.combine(period.start, time.min, tzinfo=_tz())
    # Bounded: one instrument, completed, in the subtree, up to the end of the window.
    scores = Assessment.objects.filter(
        person__unit__path__startswith=unit.path,
        instrument=instrument,
        status=AssessmentStatus.COMPLETED,
        total__isnull=False,
        completed_at__isnull=False,
        completed_at__lte=end,
    )
    if programme is not None:
        scores = scores.filter(
            person_id__in=SessionParticipant.objects.filter(session__programme=programme).values(
                "person_id"
            )
        )
    # Only people with a score in the period can have their post score there.
    active = scores.filter(completed_at__gte=period_start).values("person_id")
    rows = (
        scores.filter(person_id__in=active)
        .order_by("person_id", "completed_at", "pk")
        .values_list("person_id", "person__unit__path", "completed_at", "total")
    )
    series: dict[uuid.UUID, list[tuple[datetime, int]]] = {}
    paths: dict[uuid.UUID, str] = {}
    for person_id, path, at, total in rows.iterator(chunk_size=2000):
        if at is None or total is None:  # excluded by the query; for the type checker
            continue
        series.setdefault(person_id, []).append((at, total))
        paths[person_id] = path
    found: dict[uuid.UUID, tuple[tuple[datetime, int], tuple[datetime, int]]] = {}
    for person_id, person_scores in series.items():
        pair = outcomes.dated_pre_post(person_scores, start=start, end=end)
        if pair is not None and pair[1][0] >= period_start:
            found[person_id] = pair
    memberships: dict[uuid.UUID, list[tuple[str, date, date | None]]] = {}
    for person_id, group, date_from, date_to in GroupMembership.objects.filter(
        person_id__in=active
    ).values_list("person_id", "group", "date_from", "date_to"):
        if person_id in found:
            memberships.setdefault(person_id, []).append((group, date_from, date_to))
    result = []
    for person_id, ((_pre_at, pre), (post_at, post)) in found.items():
        day = post_at.astimezone(_tz()).date()
        groups = frozenset(
            g
            for g, start_day, end_day in memberships.get(person_id, [])
            if start_day <= day and (end_day is None or day <= end_day)
        )
        rest = paths[person_id][len(unit.path) :]
        result.append(Pair(child=rest.split("/", 1)[0] or SELF, groups=groups, pre=pre, post=post))
    return result


def count(instrument: str, people: Iterable[Pair]) -> Counts:
    counts = Counts()
    for p in people:
        counts.add(classify(instrument, p.pre, p.post), p.pre, p.post)
    return counts


# --- publishing ------------------------------------------------------------------------------

# The four count tables of a breakdown, every count the page names a cell or a margin of one:
# reliable change (its row totals: the people with a pre and a post score); caseness at the
# first score (row totals the same people); recovery among the cases (row totals: the cases);
# reliable recovery among the recovered (row totals: the recovered). Each table after the first
# takes its row totals from a column of an earlier one (None: the change table's row totals).
TABLES = ("change", "case", "recovery", "reliable")
PARENTS: dict[str, tuple[str, int] | None] = {
    "case": None,
    "recovery": ("case", 0),
    "reliable": ("recovery", 0),
}


def table_rows(c: Counts) -> dict[str, list[int]]:
    rr, ro, cnr, nc = c.recovery
    return {
        "change": list(c.change),
        "case": [rr + ro + cnr, nc],
        "recovery": [rr + ro, cnr],
        "reliable": [rr, ro],
    }


def _hide_nonzero(values: Sequence[int]) -> list[int | None]:
    return [0 if v == 0 else None for v in values]


def _pattern(published: Published) -> list[bool]:
    return [v is None for v in [*published.column_totals, published.total]]


def _margin(pub: dict[str, Published], parent: tuple[str, int] | None) -> tuple[list[Any], Any]:
    if parent is None:
        return list(pub["change"].row_totals), pub["change"].total
    name, column = parent
    return [row[column] for row in pub[name].cells], pub[name].column_totals[column]


def _cells_hidden(
    cells: list[list[int]],
    margin: tuple[list[Any], Any],
    limit: int,
    totals: Published | None,
) -> Published:
    """A table with every cell hidden (zeros too): its row totals as its parent shows them,
    its totals row protected on its own (or as ``totals`` already shows it). It then adds
    nothing but its totals row: any row totals and any column totals with the same sum are
    consistent with some table of hidden cells."""
    rows, total = margin
    columns = [sum(col) for col in zip(*cells, strict=True)]
    if totals is not None:
        column_totals, grand = list(totals.column_totals), totals.total
    else:
        alone = suppress_table([columns], limit)
        column_totals, grand = list(alone.cells[0]), alone.row_totals[0]
    if (grand is None) != (total is None):
        column_totals = _hide_nonzero(columns)
    return Published(
        cells=[[None] * len(columns) for _ in cells],
        row_totals=list(rows),
        column_totals=column_totals,
        total=total,
    )


def protect(
    rows: list[dict[str, list[int]]], limit: int, conform: dict[str, Published] | None = None
) -> tuple[dict[str, Published], set[str]] | None:
    """The four tables of a breakdown as they may be published, and the names of those whose
    cells had to be hidden.

    Each table is protected by ``suppress_table``. A table is linked to the one it takes its
    row totals from; the two are protected independently only when none of the totals they
    share is hidden in either — otherwise the later table's cells are hidden. ``conform``: the
    tables already published for the whole unit, whose totals rows these tables share (a target
    group against the rest of the people): they must hide the same totals, or the group's
    change table gives None and the other tables' cells are hidden."""
    change = suppress_table([r["change"] for r in rows], limit)
    if conform is not None and _pattern(change) != _pattern(conform["change"]):
        return None
    pub = {"change": change}
    hidden: set[str] = set()
    for name in TABLES[1:]:
        cells = [r[name] for r in rows]
        margin = _margin(pub, PARENTS[name])
        alone = suppress_table(cells, limit)
        independent = (
            None not in margin[0]
            and margin[1] is not None
            and None not in alone.row_totals
            and alone.total is not None
            and (conform is None or _pattern(alone) == _pattern(conform[name]))
        )
        if independent:
            pub[name] = alone
        else:
            pub[name] = _cells_hidden(
                cells, margin, limit, None if conform is None else conform[name]
            )
            hidden.add(name)
    return pub, hidden


@dataclass
class Figures:
    """One row as it may be shown: ``None`` where a number is hidden."""

    code: str
    label: str
    people: int | None  # with a pre and a post score
    change: list[int | None]  # reliably improved, no reliable change, reliably deteriorated
    case: list[int | None]  # a case at the first score, not a case
    recovery: list[int | None]  # of the cases: recovered, not recovered
    reliable: list[int | None]  # of the recovered: reliably (reliably improved too), not
    means: tuple[float, float, float] | None  # pre, post, change; None: hidden or no one
    min_people: int  # the fewest people a mean or a share is shown over
    withheld: bool = False  # the whole row is hidden (see ``publish``)

    @property
    def cases(self) -> int | None:
        """Cases at the first score: the denominator of the recovery rates."""
        return self.case[0]

    @property
    def not_case(self) -> int | None:
        return self.case[1]

    @property
    def recovered(self) -> int | None:
        return self.recovery[0]

    @property
    def reliably_recovered(self) -> int | None:
        return self.reliable[0]

    def share(self, part: int | None, whole: int | None) -> Cell:
        if part is None or whole is None:
            return None
        if whole == 0:
            return NA
        if whole < self.min_people:
            return None
        return part / whole

    def mean(self, k: int) -> Cell:
        if self.means is not None:
            return self.means[k]
        return NA if self.people == 0 else None

    @property
    def improvement_rate(self) -> Cell:
        return self.share(self.change[0], self.people)

    @property
    def no_change_rate(self) -> Cell:
        return self.share(self.change[1], self.people)

    @property
    def deterioration_rate(self) -> Cell:
        return self.share(self.change[2], self.people)

    @property
    def case_rate(self) -> Cell:
        return self.share(self.cases, self.people)

    @property
    def recovery_rate(self) -> Cell:
        return self.share(self.recovered, self.cases)

    @property
    def reliable_recovery_rate(self) -> Cell:
        return self.share(self.reliably_recovered, self.cases)


def _means(
    counts: Counts, people: int | None, min_people: int
) -> tuple[float, float, float] | None:
    n = counts.people
    if people is None or n == 0 or n < min_people:
        return None
    pre, post = counts.pre_sum / n, counts.post_sum / n
    return pre, post, post - pre


def _figures(
    code: str,
    label: str,
    pub: dict[str, Published],
    row: int | None,
    means: tuple[float, float, float] | None,
    min_people: int,
) -> Figures:
    """Row ``row`` of the published tables, or (None) their totals row."""

    def cells(name: str) -> list[int | None]:
        p = pub[name]
        return list(p.column_totals if row is None else p.cells[row])

    change = pub["change"]
    return Figures(
        code=code,
        label=label,
        people=change.total if row is None else change.row_totals[row],
        change=cells("change"),
        case=cells("case"),
        recovery=cells("recovery"),
        reliable=cells("reliable"),
        means=means,
        min_people=min_people,
    )


def _shown(rows: list[dict[str, list[int]]]) -> dict[str, Published]:
    pub = {}
    for name in TABLES:
        cells = [r[name] for r in rows]
        pub[name] = Published(
            cells=[list(c) for c in cells],
            row_totals=[sum(c) for c in cells],
            column_totals=[sum(col) for col in zip(*cells, strict=True)],
            total=sum(sum(c) for c in cells),
        )
    return pub


@dataclass
class Evaluation:
    unit: Unit
    period: Period
    instrument: str
    programme: Programme | None
    suppressed: bool
    threshold: int
    overview: Figures
    by_unit: list[Figures]
    by_group: list[Figures]
    hidden_by_unit: set[str] = field(default_factory=set)  # tables whose cells are hidden

    @property
    def people(self) -> int | None:
        return self.overview.people


def publish(
    rows: list[tuple[str, str, Counts]],
    groups: list[tuple[str, str, Counts]],
    *,
    suppress: bool,
    limit: int,
    overview_label: str,
) -> tuple[Figures, list[Figures], list[Figures], set[str]]:
    """(the unit, its rows, its groups, the tables whose cells are hidden by unit) as they may
    be shown. ``rows`` partition the people (the units below); ``groups`` may overlap.

    The unit's figures are the totals rows of the tables by unit. A group is published as the
    first of two rows, itself and the rest of the unit's people, conforming to the unit's
    totals; when its change table would hide other totals than the unit's, the group's figures
    are withheld."""
    total = Counts()
    for _code, _label, c in rows:
        total.change = [a + b for a, b in zip(total.change, c.change, strict=True)]
        total.recovery = [a + b for a, b in zip(total.recovery, c.recovery, strict=True)]
        total.pre_sum += c.pre_sum
        total.post_sum += c.post_sum
    min_people = limit if suppress else 1
    if not rows:
        pub = _shown([table_rows(total)])
        return _figures("total", overview_label, pub, None, None, min_people), [], [], set()
    if not suppress:
        pub = _shown([table_rows(c) for *_x, c in rows])
        return (
            _figures("total", overview_label, pub, None, _means(total, 1, 1), 1),
            [
                _figures(code, label, pub, i, _means(c, 1, 1), 1)
                for i, (code, label, c) in enumerate(rows)
            ],
            [
                _figures(code, label, _shown([table_rows(c)]), 0, _means(c, 1, 1), 1)
                for code, label, c in groups
            ],
            set(),
        )
    protected = protect([table_rows(c) for *_x, c in rows], limit)
    if protected is None:  # only a breakdown asked to conform can be refused
        raise ValueError("the unit's tables were refused")
    pub, hidden = protected
    change = pub["change"]
    overview = _figures(
        "total", overview_label, pub, None, _means(total, change.total, limit), limit
    )
    by_unit = [
        _figures(code, label, pub, i, _means(c, change.row_totals[i], limit), limit)
        for i, (code, label, c) in enumerate(rows)
    ]
    by_group = [_publish_group(code, label, c, total, pub, limit) for code, label, c in groups]
    return overview, by_unit, by_group, hidden


def _publish_group(
    code: str, label: str, c: Counts, total: Counts, unit: dict[str, Published], limit: int
) -> Figures:
    rest = total.minus(c)
    protected = protect([table_rows(c), table_rows(rest)], limit, conform=unit)
    if protected is None:
        return Figures(
            code, label, None, [None] * 3, [None] * 2, [None] * 2, [None] * 2, None, limit, True
        )
    pub, _hidden = protected
    people = pub["change"].row_totals[0]
    # With the unit's mean shown, the rest's mean follows from the group's: not over a few.
    means = _means(c, people, limit) if rest.people == 0 or rest.people >= limit else None
    return _figures(code, label, pub, 0, means, limit)


# --- the page's figures ----------------------------------------------------------------------


def group_label(code: str) -> str:
    return str(TargetGroup(code).label)


def evaluate(
    *,
    unit: Unit,
    period: Period,
    instrument: str,
    programme: Programme | None = None,
    suppress: bool,
) -> Evaluation:
    from django.utils.translation import gettext as _

    limit = threshold()
    found = pairs(unit, period, instrument, programme)
    by_child: dict[str, list[Pair]] = {}
    for p in found:
        by_child.setdefault(p.child, []).append(p)
    children = {
        u.pk.hex: u
        for u in Unit.objects.filter(
            pk__in=[uuid.UUID(h) for h in by_child if h != SELF]
        ).select_related("parent")
    }
    ordered = sorted(
        (h for h in by_child if h != SELF),
        key=lambda h: (children[h].kind, children[h].name) if h in children else ("", h),
    )
    rows: list[tuple[str, str, Counts]] = []
    if SELF in by_child:
        rows.append(
            (
                SELF,
                _("%(unit)s itself (files kept at the unit)") % {"unit": unit.full_name},
                count(instrument, by_child[SELF]),
            )
        )
    for h in ordered:
        name = children[h].full_name if h in children else h
        rows.append((h, name, count(instrument, by_child[h])))
    group_codes = [g for g in TargetGroup.values if any(g in p.groups for p in found)]
    groups = [
        (g, group_label(g), count(instrument, [p for p in found if g in p.groups]))
        for g in group_codes
    ]
    # No row for "in no target group": with a single group it would be the group's complement,
    # two rows adding up to the unit's totals, each protected on its own (a hidden cell of one
    # would be the total minus the other's).
    overview, by_unit, by_group, hidden = publish(
        rows, groups, suppress=suppress, limit=limit, overview_label=unit.full_name
    )
    return Evaluation(
        unit=unit,
        period=period,
        instrument=instrument,
        programme=programme,
        suppressed=suppress,
        threshold=limit,
        overview=overview,
        by_unit=by_unit,
        by_group=by_group,
        hidden_by_unit=hidden,
    )


def programmes_for(unit: Unit) -> list[Programme]:
    """The programmes whose outcomes the unit's page can show: run in its subtree, or with a
    participant whose file is kept there."""
    from django.db.models import Q

    with_people = SessionParticipant.objects.filter(
        person__unit__path__startswith=unit.path, session__programme__isnull=False
    ).values("session__programme_id")
    return list(
        Programme.objects.filter(Q(unit__path__startswith=unit.path) | Q(pk__in=with_people))
        .distinct()
        .order_by("-starts_on", "name")
    )
