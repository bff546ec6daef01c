"""What the aggregate tables count, source by source (issue #9 item 1). Each source gives the
counts of one owning unit on one local day from the raw records, and names the model fields
whose change alters them. ``xinqiao.reports.naive`` computes the same figures by GROUP BY over
the raw tables of a whole subtree, for the tests and the bench to compare.

Keys join dimension values with "|". Times to acknowledge or to first contact are kept as a
histogram of minutes (key "level|minutes", ``minutes_between``), so medians and 90th
percentiles are exact to the histogram's step (see ``indicators.percentile``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateField,
    Expression,
    F,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, Concat, TruncDate

from xinqiao.reports.models import SNAPSHOT_DAY
from xinqiao.reports.tally import (
    Mark,
    RowSet,
    Source,
    Watch,
    day_bounds,
    local_day,
    local_tz,
    register,
)


def tally_rows(
    queryset: QuerySet[Any],
    *,
    unit: str,
    day: Expression | date,
    measure: str,
    key: Expression | str = "",
    count: Expression | None = None,
    amount: Expression | None = None,
) -> QuerySet[Any]:
    """``queryset`` grouped into aggregate rows (t_unit, t_day, t_measure, t_key, t_count,
    t_amount): the form ``tally.rebuild`` runs inside the database."""
    day_expr = day if isinstance(day, Expression) else Value(day, output_field=DateField())
    key_expr = key if isinstance(key, Expression) else Value(key, output_field=CharField())
    grouped: QuerySet[Any] = (
        queryset.annotate(
            t_unit=F(unit),
            t_day=day_expr,
            t_measure=Value(measure, output_field=CharField()),
            t_key=key_expr,
        )
        .values("t_unit", "t_day", "t_measure", "t_key")
        .annotate(
            t_count=count if count is not None else Count("pk"),
            t_amount=amount if amount is not None else Value(0, output_field=BigIntegerField()),
        )
        .order_by()
    )
    return grouped


def on_day(queryset: QuerySet[Any], field: str, day: date | None) -> QuerySet[Any]:
    if day is None:
        return queryset
    start, end = day_bounds(day)
    return queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})


def in_units(queryset: QuerySet[Any], field: str, units: list[Any] | None) -> QuerySet[Any]:
    return queryset if units is None else queryset.filter(**{f"{field}__in": units})


def local_date(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=local_tz())


def joined(*fields: str) -> Expression:
    parts: list[Any] = []
    for i, name in enumerate(fields):
        if i:
            parts.append(Value("|"))
        parts.append(Cast(name, CharField()))
    return Concat(*parts, output_field=CharField()) if len(parts) > 1 else parts[0]


def marks_on(field: str, unit: str = "unit_id") -> Any:
    """Marks of a row that counts on the local day of its timestamp ``field``."""

    def marks(values: dict[str, Any]) -> Iterable[Mark]:
        day = local_day(values[field])
        return [(values[unit], day)] if day is not None else []

    return marks


def snapshot_of(unit: str = "unit_id") -> Any:
    def marks(values: dict[str, Any]) -> Iterable[Mark]:
        return [(values[unit], SNAPSHOT_DAY)]

    return marks


def person_unit_snapshot(values: dict[str, Any]) -> Iterable[Mark]:
    from xinqiao.people.models import Person

    unit_id = Person.objects.filter(pk=values["person_id"]).values_list("unit_id", flat=True)
    return [(u, SNAPSHOT_DAY) for u in unit_id]


# --- people ---------------------------------------------------------------------------------

PERSON_FIELDS = ("unit_id", "status", "is_deceased", "unnamed_contact", "priority_level")


def under_service(queryset: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
    """Files under service now: active, alive, named (an unnamed hotline contact file is not a
    person the community serves)."""
    return queryset.filter(
        **{
            f"{prefix}status": "active",
            f"{prefix}is_deceased": False,
            f"{prefix}unnamed_contact": False,
        }
    )


def _people_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.people.models import GroupMembership, Person

    people = in_units(under_service(Person.objects.all()), "unit_id", units)
    groups = in_units(
        under_service(GroupMembership.objects.filter(date_to__isnull=True), "person__"),
        "person__unit_id",
        units,
    )
    return [
        tally_rows(
            people,
            unit="unit_id",
            day=SNAPSHOT_DAY,
            measure="people.level",
            key=Cast("priority_level", CharField()),
        ),
        tally_rows(
            groups,
            unit="person__unit_id",
            day=SNAPSHOT_DAY,
            measure="people.group",
            key=Cast("group", CharField()),
            count=Count("person_id", distinct=True),
        ),
    ]


register(
    Source(
        name="people",
        measures=("people.level", "people.group"),
        rows=_people_rows,
        snapshot=True,
        watches=(
            Watch("people.Person", PERSON_FIELDS, snapshot_of()),
            Watch(
                "people.GroupMembership", ("person_id", "group", "date_to"), person_unit_snapshot
            ),
        ),
    )
)


def _new_files_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.people.models import Person

    people = on_day(
        in_units(Person.objects.filter(unnamed_contact=False), "unit_id", units), "created_at", day
    )
    return [tally_rows(people, unit="unit_id", day=local_date("created_at"), measure="people.new")]


register(
    Source(
        name="new_files",
        measures=("people.new",),
        rows=_new_files_rows,
        watches=(
            Watch(
                "people.Person",
                ("unit_id", "created_at", "unnamed_contact"),
                marks_on("created_at"),
            ),
        ),
    )
)


# --- assessments ----------------------------------------------------------------------------


def _assessment_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.assessments.models import Assessment, AssessmentStatus

    done = Assessment.objects.filter(status=AssessmentStatus.COMPLETED, completed_at__isnull=False)
    done = on_day(in_units(done, "unit_id", units), "completed_at", day)
    return [
        tally_rows(
            done,
            unit="unit_id",
            day=local_date("completed_at"),
            measure="assessment",
            key=joined("instrument", "band_code"),
        )
    ]


register(
    Source(
        name="assessments",
        measures=("assessment",),
        rows=_assessment_rows,
        watches=(
            Watch(
                "assessments.Assessment",
                ("unit_id", "status", "completed_at", "instrument", "band_code"),
                marks_on("completed_at"),
            ),
        ),
    )
)


# --- crisis alerts --------------------------------------------------------------------------


def minutes_between(start: Any, end: Any) -> int:
    """Whole minutes from ``start`` to ``end``, rounded down to the histogram's step: to the
    minute in the first hour, to 5 minutes up to 4 hours, to the hour up to a day, to the
    day beyond (the step grows with the wait, so a city-year has a few hundred keys a day
    instead of one per distinct minute; medians and percentiles are exact to that step)."""
    minutes = max(0, int((end - start).total_seconds() // 60))
    for limit, step in ((60, 1), (240, 5), (1440, 60)):
        if minutes < limit:
            return minutes - minutes % step
    return minutes - minutes % 1440


def _alert_rows(units: list[Any] | None, day: date | None) -> list[RowSet]:
    from xinqiao.risk.models import Alert

    alerts = on_day(in_units(Alert.objects.all(), "unit_id", units), "created_at", day)
    rows: list[tuple[Any, date, str, str, int, int]] = []
    for a in alerts.values_list(
        "unit_id", "created_at", "level", "acknowledged_at", "first_contact_at", "escalation_step"
    ).iterator(chunk_size=5000):
        unit_id, created, level, acked, contacted, step = a
        d = local_day(created) or SNAPSHOT_DAY  # created_at is never empty
        rows.append((unit_id, d, "alert", str(level), 1, 0))
        if acked is not None:
            rows.append(
                (unit_id, d, "alert.ack", f"{level}|{minutes_between(created, acked)}", 1, 0)
            )
        if contacted is not None:
            key = f"{level}|{minutes_between(created, contacted)}"
            rows.append((unit_id, d, "alert.contact", key, 1, 0))
        if step:
            rows.append((unit_id, d, "alert.escalated", str(level), 1, 0))
    return [rows]


register(
    Source(
        name="alerts",
        measures=("alert", "alert.ack", "alert.contact", "alert.escalated"),
        rows=_alert_rows,
        watches=(
            Watch(
                "risk.Alert",
                (
                    "unit_id",
                    "created_at",
                    "level",
                    "acknowledged_at",
                    "first_contact_at",
                    "escalation_step",
                ),
                marks_on("created_at"),
            ),
        ),
    )
)


from xinqiao.reports import sources_services  # noqa: E402, F401
