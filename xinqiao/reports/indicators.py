"""The dashboard of a unit for a period, read from the aggregate tables only (issue #9 item 1;
R-REPORT; seed 001 四 / 000 三(三)): sections of tables rolled up the tree. When the figures
leave the unit that owns the people (``suppress``), every count from 1 to threshold − 1 is
hidden with complementary suppression (``cells.suppress_table``), and a median, percentile or
rate computed over fewer than threshold people is hidden too (issue #9 item 4, R-PRIVACY).

Sections register themselves with ``@section``; sources of other capabilities add theirs in
their own module (``indicators_services``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinqiao.orgs.models import Unit
from xinqiao.reports import periods, tally
from xinqiao.reports.cells import suppress_table
from xinqiao.reports.periods import Period
from xinqiao.reports.tables import Cell, Dashboard, Row, Section, Table

# A figure that does not exist (the median of nothing), as opposed to a hidden one (None).
NOT_APPLICABLE = "—"


def threshold() -> int:
    return int(getattr(settings, "XINQIAO_SMALL_CELL_THRESHOLD", 5))


@dataclass
class Context:
    unit: Unit
    period: Period
    suppress: bool
    threshold: int
    children: list[Unit] = field(default_factory=list)
    _cache: dict[tuple[str, ...], tally.Counts] = field(default_factory=dict)

    def counts(self, *measures: str) -> tally.Counts:
        if measures not in self._cache:
            self._cache[measures] = tally.read(
                self.unit, measures, self.period.start, self.period.end
            )
        return self._cache[measures]

    def by_child(self, *measures: str) -> dict[Any, tally.Counts]:
        """Per direct child unit, and under "own" the unit's own records, so that the rows
        of a by-unit table add up to the unit's total."""
        start, end = self.period.start, self.period.end
        result = tally.read_children(self.unit, measures, start, end)
        result["own"] = tally.read_own(self.unit, measures, start, end)
        return result

    @property
    def zh(self) -> bool:
        return (get_language() or "zh-hans").startswith("zh")


SectionBuilder = Callable[[Context], Section | None]
SECTIONS: list[SectionBuilder] = []


def section(builder: SectionBuilder) -> SectionBuilder:
    SECTIONS.append(builder)
    return builder


def build(
    *, unit: Unit, period: Period, suppress: bool, threshold_override: int | None = None
) -> Dashboard:
    _load()
    ctx = Context(
        unit=unit,
        period=period,
        suppress=suppress,
        threshold=threshold_override or threshold(),
        children=list(Unit.objects.filter(parent=unit, is_active=True).order_by("kind", "name")),
    )
    sections = [s for s in (builder(ctx) for builder in SECTIONS) if s is not None]
    updated = tally.updated_at()
    return Dashboard(
        unit_id=str(unit.pk),
        unit_name=unit.name,
        unit_kind=unit.kind,
        start=period.start,
        end=period.end,
        sections=sections,
        suppressed=suppress,
        threshold=ctx.threshold,
        updated_at=f"{timezone.localtime(updated):%Y-%m-%d %H:%M}" if updated else "",
    )


def _load() -> None:
    from xinqiao.reports import indicators_services  # noqa: F401  (registers its sections)


# --- table helpers -------------------------------------------------------------------------


def count_table(
    ctx: Context,
    *,
    code: str,
    title: str,
    label_header: str,
    rows: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, str]],
    value: Callable[[str, str], int],
    chart: str = "bar",
    note: str = "",
    drop_empty_rows: bool = True,
) -> Table:
    """A table of counts with its row and column totals; suppressed when ``ctx.suppress``."""
    grid = [[value(r, c) for c, _l in columns] for r, _l in rows]
    kept = [
        (row, line)
        for row, line in zip(rows, grid, strict=True)
        if any(line) or not drop_empty_rows
    ]
    kept_rows = [r for r, _line in kept]
    grid = [line for _r, line in kept]
    many = len(columns) > 1
    headers = [label for _c, label in columns] + ([_("Total")] if many else [])
    if not grid:
        return Table(code, title, headers, [], label_header, chart, note)
    if ctx.suppress:
        shown = suppress_table(grid, ctx.threshold)
        cells: list[list[Cell]] = [list(r) for r in shown.cells]
        row_totals: list[Cell] = list(shown.row_totals)
        column_totals: list[Cell] = list(shown.column_totals)
        total: Cell = shown.total
    else:
        cells = [list(r) for r in grid]
        row_totals = [sum(r) for r in grid]
        column_totals = [sum(col) for col in zip(*grid, strict=True)]
        total = sum(row_totals)  # type: ignore[arg-type]
    out = [
        Row(label, [*line, *([rt] if many else [])], code=row_code)
        for (row_code, label), line, rt in zip(kept_rows, cells, row_totals, strict=True)
    ]
    out.append(Row(_("Total"), [*column_totals, *([total] if many else [])], code="total"))
    return Table(code, title, headers, out, label_header, chart, note, suppressed=ctx.suppress)


def percentile(histogram: dict[int, int], q: float) -> int | None:
    """The nearest-rank percentile of whole minutes: the smallest value with at least
    ⌈q·n⌉ observations at or below it (Hyndman & Fan 1996, definition 1); the median is
    q = 0.5."""
    n = sum(histogram.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None


def small(ctx: Context, n: int) -> bool:
    """A figure over fewer than threshold people is hidden outside the unit."""
    return ctx.suppress and 0 < n < ctx.threshold


def child_rows(ctx: Context) -> list[tuple[str, str]]:
    own = ("own", _("%(name)s itself") % {"name": ctx.unit.full_name})
    return [*((str(c.pk), c.full_name) for c in ctx.children), own]


def key_count(counts: tally.Counts, measure: str, key: str) -> int:
    return counts.get((measure, key), (0, 0))[0]


def child_value(per_child: dict[Any, tally.Counts], measure: str) -> Callable[[str, str], int]:
    by_id = {str(k): v for k, v in per_child.items()}

    def value(row: str, column: str) -> int:
        return key_count(by_id.get(row, {}), measure, column)

    return value


def series_table(
    ctx: Context,
    *,
    code: str,
    title: str,
    measures: Iterable[str],
    columns: Sequence[tuple[str, str]],
    column_of: Callable[[str, str], str | None],
) -> Table:
    """Counts over time, bucketed by day, week or month by the period's length."""
    size = periods.bucket(ctx.period)
    by_day = tally.read_by_day(ctx.unit, measures, ctx.period.start, ctx.period.end)

    # A bucket starts on its day, week or month, but never before the period does.
    def start_of(day: date) -> date:
        return max(ctx.period.start, periods.bucket_start(day, size))

    buckets: list[date] = []
    for day in ctx.period.each_day():
        start = start_of(day)
        if not buckets or buckets[-1] != start:
            buckets.append(start)
    values: dict[tuple[str, str], int] = {}
    for (measure, key, day), n in by_day.items():
        column = column_of(measure, key)
        if column is not None:
            cell = (start_of(day).isoformat(), column)
            values[cell] = values.get(cell, 0) + n
    label = {"day": _("Day"), "week": _("Week from"), "month": _("Month")}[size]
    return count_table(
        ctx,
        code=code,
        title=title,
        label_header=label,
        rows=[(b.isoformat(), b.isoformat()[: 7 if size == "month" else 10]) for b in buckets],
        columns=columns,
        value=lambda r, c: values.get((r, c), 0),
        chart="line",
        drop_empty_rows=False,
    )


# --- people ---------------------------------------------------------------------------------


def level_label(level: str) -> str:
    return _("Level %(level)s") % {"level": level}


@section
def people_section(ctx: Context) -> Section:
    from xinqiao.people.models import TargetGroup

    counts = ctx.counts("people.level", "people.group", "people.new")
    levels = [(str(n), level_label(str(n))) for n in range(1, 5)]
    tables = [
        count_table(
            ctx,
            code="people_by_group",
            title=_("People under service now, by target group"),
            label_header=_("Target group"),
            rows=[(g.value, str(g.label)) for g in TargetGroup],
            columns=[("n", _("People"))],
            value=lambda r, c: key_count(counts, "people.group", r),
            note=_("A person in two groups is counted in both."),
        ),
        count_table(
            ctx,
            code="people_by_level",
            title=_("People under service now, by priority level"),
            label_header=_("Priority level"),
            rows=levels,
            columns=[("n", _("People"))],
            value=lambda r, c: key_count(counts, "people.level", r),
            note=_("Level 1 is the highest priority."),
        ),
    ]
    if ctx.children:
        per_child = ctx.by_child("people.level", "people.new")
        tables.append(
            count_table(
                ctx,
                code="people_by_unit",
                title=_("People under service now, by unit and priority level"),
                label_header=_("Unit"),
                rows=child_rows(ctx),
                columns=levels,
                value=child_value(per_child, "people.level"),
            )
        )
        tables.append(
            count_table(
                ctx,
                code="new_files_by_unit",
                title=_("New files in the period, by unit"),
                label_header=_("Unit"),
                rows=child_rows(ctx),
                columns=[("", _("New files"))],
                value=child_value(per_child, "people.new"),
            )
        )
    else:
        tables.append(
            count_table(
                ctx,
                code="new_files",
                title=_("New files in the period"),
                label_header="",
                rows=[("", _("New files"))],
                columns=[("", _("Files"))],
                value=lambda r, c: key_count(counts, "people.new", ""),
                chart="none",
            )
        )
    return Section("people", _("People under service"), tables)


# --- assessments ----------------------------------------------------------------------------


def _band_counter(counts: tally.Counts, code: str) -> Callable[[str, str], int]:
    def value(band: str, column: str) -> int:
        return key_count(counts, "assessment", f"{code}|{band}")

    return value


@section
def assessments_section(ctx: Context) -> Section:
    from xinqiao.instruments.library import library

    counts = ctx.counts("assessment")
    instruments = library()
    used = sorted({key.split("|", 1)[0] for (m, key) in counts if m == "assessment"})
    tables = []
    for code in used:
        instrument = instruments.get(code)
        bands = [(b.code, b.zh if ctx.zh else b.en) for b in instrument.bands] if instrument else []
        known = {b for b, _l in bands}
        extra = sorted(
            {
                key.split("|", 1)[1]
                for (m, key) in counts
                if m == "assessment" and key.split("|", 1)[0] == code
            }
            - known
        )
        bands += [(b, b or _("No band")) for b in extra]
        name = (instrument.zh if ctx.zh else instrument.en) if instrument else code
        tables.append(
            count_table(
                ctx,
                code=f"assessments_{code}",
                title=_("%(instrument)s: completed assessments by band") % {"instrument": name},
                label_header=_("Band"),
                rows=bands,
                columns=[("n", _("Assessments"))],
                value=_band_counter(counts, code),
                drop_empty_rows=False,
            )
        )
    tables.append(
        series_table(
            ctx,
            code="assessments_over_time",
            title=_("Completed assessments over time"),
            measures=["assessment"],
            columns=[("n", _("Assessments"))],
            column_of=lambda m, k: "n",
        )
    )
    if ctx.children:
        per_child = ctx.by_child("assessment")
        by_id = {str(k): v for k, v in per_child.items()}
        tables.append(
            count_table(
                ctx,
                code="assessments_by_unit",
                title=_("Completed assessments by unit and instrument"),
                label_header=_("Unit"),
                rows=child_rows(ctx),
                columns=[(c, c.upper()) for c in used],
                value=lambda r, c: sum(
                    n for (m, key), (n, _a) in by_id.get(r, {}).items() if key.startswith(c + "|")
                ),
            )
        )
    return Section("assessments", _("Assessments"), tables)


# --- crisis alerts --------------------------------------------------------------------------


def _histogram(counts: tally.Counts, measure: str, level: str | None) -> dict[int, int]:
    result: dict[int, int] = {}
    for (m, key), (n, _a) in counts.items():
        if m != measure:
            continue
        lvl, minutes = key.split("|", 1)
        if level is None or lvl == level:
            result[int(minutes)] = result.get(int(minutes), 0) + n
    return result


@section
def alerts_section(ctx: Context) -> Section:
    from xinqiao.risk.models import RiskLevel

    counts = ctx.counts("alert", "alert.ack", "alert.contact", "alert.escalated")
    levels = [(str(v), str(label)) for v, label in RiskLevel.choices]
    totals = count_table(
        ctx,
        code="alerts_by_level",
        title=_("Crisis alerts raised in the period, by level"),
        label_header=_("Level"),
        rows=levels,
        columns=[("alert", _("Alerts")), ("alert.escalated", _("Escalated"))],
        value=lambda r, c: key_count(counts, c, r),
    )
    # Totals of escalated alerts are not a sum of columns: the count table's "Total" column
    # adds alerts and escalations, which means nothing; drop it.
    totals.columns = totals.columns[:2]
    for row in totals.rows:
        row.cells = row.cells[:2]
    rows: list[Row] = []
    for level, label in [*levels, ("", _("All levels"))]:
        ack = _histogram(counts, "alert.ack", level or None)
        contact = _histogram(counts, "alert.contact", level or None)
        cells: list[Cell] = []
        for hist in (ack, contact):
            n = sum(hist.values())
            hidden = small(ctx, n)
            if n == 0:
                cells += [0, NOT_APPLICABLE, NOT_APPLICABLE]
                continue
            cells += [
                None if hidden else n,
                None if hidden else percentile(hist, 0.5),
                None if hidden else percentile(hist, 0.9),
            ]
        if any(c not in (0, None) for c in cells) or not level:
            rows.append(Row(label, cells, code=level or "all"))
    times = Table(
        code="alert_response_times",
        title=_("Time to acknowledge and to first contact (minutes)"),
        columns=[
            _("Acknowledged"),
            _("Median to acknowledge"),
            _("90th percentile to acknowledge"),
            _("Contacted"),
            _("Median to first contact"),
            _("90th percentile to first contact"),
        ],
        rows=rows,
        label_header=_("Level"),
        chart="none",
        unit=_("minutes"),
        note=_(
            "Minutes from the alert to its acknowledgement and to the first contact: to the "
            "minute in the first hour, to 5 minutes up to 4 hours, to the hour up to a day; "
            "nearest-rank percentiles."
        ),
        suppressed=ctx.suppress,
    )
    return Section("alerts", _("Crisis alerts and response times"), [totals, times])
