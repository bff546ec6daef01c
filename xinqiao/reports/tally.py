"""Keeping the aggregate tables in step with the raw records (issue #9 item 5: incremental
aggregate tables maintained from change events, never a full scan per page view).

Each *source* says, for one owning unit and one local day (or the snapshot day), what counts
its raw records give: rows of (measure, key) → (count, amount). Each source also *watches*
the models it reads: saving or deleting one of their rows marks the (owning unit, day) it
belonged to before and after the change (``TallyDirty``, written in the writer's own
transaction, so a committed change always has its mark and a rolled-back one never does).

``refresh`` (run by the worker every minute, one at a time) recounts each marked
(unit, source, day) from the raw records, replaces the unit's ``own`` rows, and adds the
difference to the tree rows of the unit and of every unit above it. ``rebuild`` recounts
everything from scratch (after an import that bypassed the models, or to check). Reading is
``totals``/``read``: sums of tree rows, never raw records.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, DateField, F, Model, Q, QuerySet, Sum, Value
from django.db.models.functions import Concat, TruncMonth
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from xinqiao.orgs.models import Unit
from xinqiao.reports.models import SNAPSHOT_DAY, Tally, TallyDirty, TallyRun

Key = tuple[str, str]  # (measure, key)
# Tree rows are also kept per calendar month (the measure's name with this suffix, on the
# month's first day), so that a year is read as twelve rows per key instead of 365.
MONTHLY = "@m"
Counts = dict[Key, tuple[int, int]]  # → (count, amount)
# A source's rows for some owning units on one day: an annotated queryset (values t_unit,
# t_day, t_measure, t_key, t_count, t_amount), which ``rebuild`` runs inside the database, or
# plain (unit_id, day, measure, key, count, amount) tuples.
RowSet = QuerySet[Any] | Iterable[tuple[Any, date, str, str, int, int]]
Mark = tuple[Any, date]  # (owning unit id, day)


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime | None) -> date | None:
    return None if moment is None else timezone.localtime(moment, local_tz()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day as [start, end) aware datetimes (an index range on a timestamp)."""
    tz = local_tz()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return day_bounds(start)[0], day_bounds(end)[1]


@dataclass(frozen=True)
class Watch:
    """Writes to ``model`` change the counts of the (unit, day) pairs ``marks`` gives for a
    row's values of ``fields`` (called with a dict of them; it may query, e.g. for the unit
    of the person a row belongs to)."""

    model: str  # "app_label.ModelName"
    fields: tuple[str, ...]
    marks: Callable[[dict[str, Any]], Iterable[Mark]]


@dataclass(frozen=True)
class Source:
    name: str
    measures: tuple[str, ...]
    # rows(units, day): the counts of the owning units ``units`` (None: every unit) on local
    # day ``day`` (None: every day; the snapshot day for a snapshot source).
    rows: Callable[[list[Any] | None, date | None], list[RowSet]]
    watches: tuple[Watch, ...]
    snapshot: bool = False


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.name] = source
    return source


def _load_sources() -> None:
    from xinqiao.reports import sources  # noqa: F401  (registers the sources)


# --- marking -------------------------------------------------------------------------------

_WATCHERS: dict[type[Model], list[tuple[str, Watch]]] = defaultdict(list)


def _values(instance: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(instance, f, None) for f in fields}


def _remember(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    # A field left out by .only()/.defer() is not read (that would cost a query per row):
    # its source then has no "before" values, and a save marks only where the row is now.
    deferred = instance.get_deferred_fields()
    instance._tally_before = {  # type: ignore[attr-defined]
        source: None if deferred.intersection(watch.fields) else _values(instance, watch.fields)
        for source, watch in _WATCHERS[sender]
    }


def _changed(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    before = getattr(instance, "_tally_before", {})
    deleted = kwargs.get("signal") is post_delete
    marks: set[tuple[Any, str, date]] = set()
    for source, watch in _WATCHERS[sender]:
        now = _values(instance, watch.fields)
        was = before.get(source)
        if not deleted and not kwargs.get("created") and was == now:
            continue
        for values in (was, now):
            if values is not None:
                marks.update((unit_id, source, day) for unit_id, day in watch.marks(values))
    instance._tally_before = {  # type: ignore[attr-defined]
        source: _values(instance, watch.fields) for source, watch in _WATCHERS[sender]
    }
    touch(marks)


def touch(marks: Iterable[tuple[Any, str, date]]) -> None:
    """Mark (owning unit, source, day) triples to be recounted; for writes that bypass the
    models' signals (``QuerySet.update``, ``bulk_create``), call this from the action."""
    rows = [
        TallyDirty(unit_id=unit_id, source=source, day=day)
        for unit_id, source, day in marks
        if unit_id is not None and day is not None
    ]
    if rows:
        TallyDirty.objects.bulk_create(rows)


def connect_signals() -> None:
    _load_sources()
    for source in SOURCES.values():
        for watch in source.watches:
            model = apps.get_model(watch.model)
            _WATCHERS[model].append((source.name, watch))
    for model in _WATCHERS:
        uid = f"xinqiao.reports.tally.{model._meta.label_lower}"
        post_init.connect(_remember, sender=model, dispatch_uid=uid + ".init", weak=False)
        post_save.connect(_changed, sender=model, dispatch_uid=uid + ".save", weak=False)
        post_delete.connect(_changed, sender=model, dispatch_uid=uid + ".delete", weak=False)


# --- counting ------------------------------------------------------------------------------


def _iterate(rowset: RowSet) -> Iterator[tuple[Any, date, str, str, int, int]]:
    if isinstance(rowset, QuerySet):
        for r in rowset:
            yield (
                r["t_unit"],
                r["t_day"],
                r["t_measure"],
                r["t_key"],
                int(r["t_count"] or 0),
                int(r["t_amount"] or 0),
            )
    else:
        yield from rowset


def count(source: Source, units: list[Any] | None, day: date | None) -> dict[Any, Counts]:
    """The source's counts per owning unit (on ``day``), read from the raw records."""
    result: dict[Any, Counts] = defaultdict(dict)
    for rowset in source.rows(units, day):
        for unit_id, row_day, measure, key, n, amount in _iterate(rowset):
            if day is not None and row_day != day:
                continue
            cell = result[unit_id].get((measure, key), (0, 0))
            result[unit_id][(measure, key)] = (cell[0] + n, cell[1] + amount)
    return result


def _ancestors(unit_id: Any, cache: dict[Any, list[Any]]) -> list[Any]:
    if unit_id not in cache:
        path = Unit.objects.filter(pk=unit_id).values_list("path", flat=True).first() or ""
        cache[unit_id] = [uuid.UUID(part) for part in path.split("/") if part]
    return cache[unit_id]


def _db(value: Any, field: str) -> Any:
    model_field: Any = Tally._meta.get_field(field)
    return model_field.get_db_prep_value(value, connection, prepared=False)


def month_measure(measure: str) -> str:
    return measure + MONTHLY


def _with_months(
    deltas: dict[tuple[Any, str, date, str], tuple[int, int]],
) -> dict[tuple[Any, str, date, str], tuple[int, int]]:
    """The day deltas plus the same added to the month rows (not for the snapshot day)."""
    result = dict(deltas)
    for (unit_id, measure, day, key), (n, a) in deltas.items():
        if day == SNAPSHOT_DAY:
            continue
        cell = (unit_id, month_measure(measure), day.replace(day=1), key)
        old = result.get(cell, (0, 0))
        result[cell] = (old[0] + n, old[1] + a)
    return result


def _add_to_tree(deltas: dict[tuple[Any, str, date, str], tuple[int, int]]) -> None:
    """Add counts to tree rows (day rows and their month rows), creating missing ones (one
    statement per batch)."""
    items = sorted(
        ((k, v) for k, v in _with_months(deltas).items() if v != (0, 0)),
        key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2], kv[0][3]),
    )
    table = Tally._meta.db_table
    for start in range(0, len(items), 500):
        batch = items[start : start + 500]
        placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(batch))
        params: list[Any] = []
        for (unit_id, measure, day, key), (n, amount) in batch:
            params += [_db(unit_id, "unit"), False, measure, _db(day, "day"), key, n, amount]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} (unit_id, own, measure, day, key, count, amount)
                VALUES {placeholders} ON CONFLICT (unit_id, own, measure, day, key)
                DO UPDATE SET count = {table}.count + excluded.count,
                amount = {table}.amount + excluded.amount""",  # noqa: S608 (model names; values are parameters)
                params,
            )


def _recount(source: Source, unit_id: Any, day: date, ancestors: dict[Any, list[Any]]) -> None:
    new = count(source, [unit_id], day).get(unit_id, {})
    own = Tally.objects.filter(unit_id=unit_id, own=True, day=day, measure__in=source.measures)
    old: Counts = {(t.measure, t.key): (t.count, t.amount) for t in own}
    deltas: dict[tuple[Any, str, date, str], tuple[int, int]] = {}
    for cell in set(new) | set(old):
        n, a = new.get(cell, (0, 0))
        on, oa = old.get(cell, (0, 0))
        if (n - on, a - oa) != (0, 0):
            for above in _ancestors(unit_id, ancestors):
                deltas[(above, cell[0], day, cell[1])] = (n - on, a - oa)
    if not deltas:
        return
    own.delete()
    Tally.objects.bulk_create(
        Tally(unit_id=unit_id, own=True, measure=m, day=day, key=k, count=n, amount=a)
        for (m, k), (n, a) in new.items()
        if (n, a) != (0, 0)
    )
    _add_to_tree(deltas)


def _single_flight() -> bool:
    """Only one refresh or rebuild at a time: the caller holds the ``refresh`` run row."""
    TallyRun.objects.get_or_create(name="refresh", defaults={"at": timezone.now()})
    return TallyRun.objects.select_for_update(skip_locked=True).filter(name="refresh").exists()


def refresh(limit: int = 2000) -> int:
    """Recount up to ``limit`` marked (unit, source, day) and apply the differences; returns
    how many marks were handled (0 when another refresh is running)."""
    _load_sources()
    with transaction.atomic():
        if not _single_flight():
            return 0
        marks = list(
            TallyDirty.objects.order_by("id").values_list("id", "unit_id", "source", "day")[:limit]
        )
        work = sorted({(u, s, d) for _id, u, s, d in marks}, key=lambda m: (str(m[0]), m[1], m[2]))
        ancestors: dict[Any, list[Any]] = {}
        for unit_id, name, day in work:
            if name in SOURCES:
                _recount(SOURCES[name], unit_id, day, ancestors)
        TallyDirty.objects.filter(id__in=[m[0] for m in marks]).delete()
        TallyRun.objects.filter(name="refresh").update(at=timezone.now())
    return len(marks)


def refresh_all() -> int:
    handled = total = refresh()
    while handled:
        handled = refresh()
        total += handled
    return total


def rebuild() -> dict[str, int]:
    """Recount every source from the raw records and rebuild the tree rows; returns the own
    rows written per source. Marks made before it started are dropped (they are counted)."""
    _load_sources()
    written: dict[str, int] = {}
    with transaction.atomic():
        _single_flight()
        last = TallyDirty.objects.order_by("-id").values_list("id", flat=True).first() or 0
        Tally.objects.all().delete()
        for source in SOURCES.values():
            before = Tally.objects.filter(own=True).count()
            for rowset in source.rows(None, None):
                _insert_own(rowset)
            written[source.name] = Tally.objects.filter(own=True).count() - before
        _roll_up()
        _roll_up_months()
        if connection.vendor == "postgresql":
            # Fresh statistics for the planner: the table was just refilled (millions of
            # rows at city scale) and autovacuum would only analyse it minutes later.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Tally._meta.db_table}")
        TallyDirty.objects.filter(id__lte=last).delete()
        TallyRun.objects.filter(name="refresh").update(at=timezone.now())
    return written


def _insert_own(rowset: RowSet, own: bool = True) -> None:
    table = Tally._meta.db_table
    if isinstance(rowset, QuerySet):
        sql, params = rowset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} (unit_id, own, measure, day, key, count, amount)
                SELECT s.t_unit, %s, s.t_measure, s.t_day, s.t_key, SUM(s.t_count),
                COALESCE(SUM(s.t_amount), 0) FROM ({sql}) s
                GROUP BY s.t_unit, s.t_measure, s.t_day, s.t_key""",  # noqa: S608 (the ORM's SQL)
                [own, *params],
            )
        return
    cells: dict[tuple[Any, str, date, str], list[int]] = {}
    for unit_id, day, measure, key, n, amount in rowset:
        cell = cells.setdefault((unit_id, measure, day, key), [0, 0])
        cell[0] += n
        cell[1] += amount
    Tally.objects.bulk_create(
        (
            Tally(unit_id=u, own=True, measure=m, day=d, key=k, count=n, amount=a)
            for (u, m, d, k), (n, a) in cells.items()
        ),
        batch_size=5000,
    )


def _roll_up() -> None:
    """Tree rows level by level from the deepest: a unit's own rows plus its children's tree
    rows (each row is read once per level instead of once per ancestor)."""
    table = Tally._meta.db_table
    units = Unit._meta.db_table
    depths = sorted(set(Unit.objects.values_list("depth", flat=True)), reverse=True)
    for depth in depths:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} (unit_id, own, measure, day, key, count, amount)
                SELECT s.unit_id, %s, s.measure, s.day, s.key, SUM(s.count), SUM(s.amount)
                FROM (SELECT t.unit_id AS unit_id, t.measure, t.day, t.key, t.count, t.amount
                FROM {table} t JOIN {units} u ON u.id = t.unit_id
                WHERE t.own = %s AND u.depth = %s
                UNION ALL SELECT u.parent_id AS unit_id, t.measure, t.day, t.key, t.count,
                t.amount FROM {table} t JOIN {units} u ON u.id = t.unit_id
                WHERE t.own = %s AND u.depth = %s) s
                GROUP BY s.unit_id, s.measure, s.day, s.key""",  # noqa: S608 (model names)
                [False, True, depth, False, depth + 1],
            )


def _roll_up_months() -> None:
    """Month rows: the tree day rows of each unit summed by calendar month."""
    days = Tally.objects.filter(own=False).exclude(day=SNAPSHOT_DAY)
    _insert_own(
        days.annotate(
            t_unit=F("unit_id"),
            t_day=TruncMonth("day", output_field=DateField()),
            t_measure=Concat(F("measure"), Value(MONTHLY), output_field=CharField()),
            t_key=F("key"),
        )
        .values("t_unit", "t_day", "t_measure", "t_key")
        .annotate(t_count=Sum("count"), t_amount=Sum("amount"))
        .order_by(),
        own=False,
    )


# --- reading -------------------------------------------------------------------------------
# Dashboards read the aggregate tables from XINQIAO_REPORTS_DATABASE: a read replica where one
# is configured (docs/deployment.md "Scale out"), the primary otherwise. They are a minute
# behind by design, so a replica's lag of a few seconds changes nothing a reader could notice.


def _tallies() -> QuerySet[Tally]:
    return Tally.objects.using(settings.XINQIAO_REPORTS_DATABASE)


def _split(
    measures: Iterable[str], start: date, end: date, *, months: bool = True
) -> tuple[Q, dict[str, str]]:
    """Which rows make up the period: whole calendar months from the month rows, the days
    before and after them from the day rows, and the snapshot day. Returns the condition and
    the map from a stored measure name back to the measure."""
    names = list(measures)
    back = {m: m for m in names}
    first_full = (
        start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    )
    if end.year >= 9999 or start.year >= 9999:  # no "next day" to find a month's end by
        return Q(measure__in=names) & (Q(day__gte=start, day__lte=end) | Q(day=SNAPSHOT_DAY)), back
    following = end + timedelta(days=1)
    last_full = following.replace(day=1) - timedelta(days=1) if following.day != 1 else end
    if not months or first_full > last_full:
        condition = Q(measure__in=names) & (Q(day__gte=start, day__lte=end) | Q(day=SNAPSHOT_DAY))
        return condition, back
    monthly = [month_measure(m) for m in names]
    back.update({month_measure(m): m for m in names})
    condition = (
        Q(measure__in=names)
        & (
            Q(day__gte=start, day__lt=first_full)
            | Q(day__gt=last_full, day__lte=end)
            | Q(day=SNAPSHOT_DAY)
        )
    ) | Q(measure__in=monthly, day__gte=first_full, day__lte=last_full)
    return condition, back


def _summed(rows: QuerySet[Tally], back: dict[str, str], by_unit: bool) -> dict[Any, Counts]:
    result: dict[Any, Counts] = defaultdict(dict)
    fields = ["unit_id", "measure", "key"] if by_unit else ["measure", "key"]
    for r in rows.values(*fields).annotate(n=Sum("count"), a=Sum("amount")):
        cells = result[r["unit_id"] if by_unit else None]
        cell = (back[r["measure"]], r["key"])
        n, a = cells.get(cell, (0, 0))
        cells[cell] = (n + int(r["n"]), a + int(r["a"]))
    return {
        unit_id: {cell: value for cell, value in cells.items() if value != (0, 0)}
        for unit_id, cells in result.items()
    }


def read(unit: Unit, measures: Iterable[str], start: date, end: date) -> Counts:
    """(measure, key) → (count, amount) over the unit's subtree and the period (snapshot
    measures as they are now)."""
    condition, back = _split(measures, start, end)
    rows = _tallies().filter(unit=unit, own=False).filter(condition)
    return _summed(rows, back, by_unit=False).get(None, {})


def read_by_day(
    unit: Unit, measures: Iterable[str], start: date, end: date
) -> dict[tuple[str, str, date], int]:
    """(measure, key, day) → count over the period (for time series)."""
    rows = (
        _tallies()
        .filter(unit=unit, own=False, measure__in=list(measures), day__gte=start, day__lte=end)
        .values("measure", "key", "day")
        .annotate(n=Sum("count"))
    )
    return {(r["measure"], r["key"], r["day"]): int(r["n"]) for r in rows if r["n"]}


def read_children(unit: Unit, measures: Iterable[str], start: date, end: date) -> dict[Any, Counts]:
    """Per direct child unit: (measure, key) → (count, amount)."""
    # The children's ids first: a join on the unit table would keep the planner from the
    # (unit, own, measure, day) index.
    children = list(Unit.objects.filter(parent=unit).values_list("pk", flat=True))
    condition, back = _split(measures, start, end)
    rows = _tallies().filter(unit_id__in=children, own=False).filter(condition)
    return defaultdict(dict, _summed(rows, back, by_unit=True))


def read_own(unit: Unit, measures: Iterable[str], start: date, end: date) -> Counts:
    """(measure, key) → (count, amount) of the unit's own records (not those below it)."""
    condition, back = _split(measures, start, end, months=False)  # own rows: days only
    rows = _tallies().filter(unit=unit, own=True).filter(condition)
    return _summed(rows, back, by_unit=False).get(None, {})


def totals(unit: Unit, start: date, end: date) -> Counts:
    """Every measure of the unit's subtree over the period, from the aggregate tables (the
    bench and the tests compare it with ``naive.totals``)."""
    return read(unit, [m for s in _all_sources() for m in s.measures], start, end)


def _all_sources() -> list[Source]:
    _load_sources()
    return list(SOURCES.values())


def updated_at() -> datetime | None:
    runs = TallyRun.objects.using(settings.XINQIAO_REPORTS_DATABASE)
    return runs.filter(name="refresh").values_list("at", flat=True).first()
