"""The calendar of the work reports (工作报告制度; seed 001 四, seed 000 三(三)): which week or
month a report covers, when it is due, the last period that has ended, and which reports are
late. Pure: no Django import; dates are local dates (Asia/Shanghai), both ends included.

The seeds ask for a reporting system (工作报告制度) but give no dates. The due dates are our
choice, written here in one place:

* a weekly report covers Monday to Sunday and is due 3 days after the week ends (Wednesday),
* a monthly report covers the calendar month and is due on the 5th of the following month.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from xinqiao.reports.periods import Period, month_of, week_of

WEEKLY = "weekly"
MONTHLY = "monthly"
KINDS = (WEEKLY, MONTHLY)

# Our choice (the seeds say 工作报告制度 without dates, seed 001 四 / 000 三(三)).
WEEKLY_DUE_AFTER_DAYS = 3
MONTHLY_DUE_DAY = 5

# The statuses after which a report counts as sent up (``WorkReportStatus`` values).
SENT = frozenset({"submitted", "read"})


def _check(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown work-report kind {kind!r}")


def period_of(kind: str, day: date) -> Period:
    """The week (Monday–Sunday, GB/T 7408) or calendar month that contains ``day``."""
    _check(kind)
    return week_of(day) if kind == WEEKLY else month_of(day)


def due_on(kind: str, period: Period) -> date:
    """The last day on which the report of ``period`` is on time."""
    _check(kind)
    if kind == WEEKLY:
        return period.end + timedelta(days=WEEKLY_DUE_AFTER_DAYS)
    return (period.end + timedelta(days=1)).replace(day=MONTHLY_DUE_DAY)


def previous(kind: str, period: Period) -> Period:
    return period_of(kind, period.start - timedelta(days=1))


def following(kind: str, period: Period) -> Period:
    return period_of(kind, period.end + timedelta(days=1))


def last_closed(kind: str, today: date) -> Period:
    """The most recent period that ended before ``today`` (today's own period is still open,
    even on its last day)."""
    return previous(kind, period_of(kind, today))


def is_closed(period: Period, today: date) -> bool:
    return period.end < today


def recent_closed(kind: str, today: date, count: int) -> list[Period]:
    """The ``count`` most recent closed periods, newest first."""
    out: list[Period] = []
    period = last_closed(kind, today)
    for _n in range(count):
        out.append(period)
        period = previous(kind, period)
    return out


def last_due(kind: str, today: date) -> Period:
    """The most recent period whose due date has passed (its report is late if not sent)."""
    period = last_closed(kind, today)
    while due_on(kind, period) >= today:
        period = previous(kind, period)
    return period


def days_late(due: date, today: date, submitted_on: date | None = None) -> int:
    """How many days after its due date a report was submitted (or, not yet submitted, how
    many days it is overdue today); 0 when on time."""
    end = submitted_on if submitted_on is not None else today
    return max(0, (end - due).days)


def is_late(due: date, status: str, today: date) -> bool:
    """Due and not sent up: the report belongs on the late list."""
    return status not in SENT and today > due


@dataclass(frozen=True)
class Expected:
    """A report a unit owes: its kind and period."""

    unit_id: str
    kind: str
    period: Period

    @property
    def due(self) -> date:
        return due_on(self.kind, self.period)


def missing(
    unit_ids: Iterable[str], existing: Iterable[tuple[object, str, date]], today: date
) -> list[Expected]:
    """The reports owed and past due for which no report exists at all: for each unit and
    kind, the most recent closed period whose due date has passed, when ``existing`` — the
    (unit id, kind, period start) of the reports there are — has none for it."""
    have = {(str(u), k, s) for u, k, s in existing}
    out: list[Expected] = []
    for kind in KINDS:
        period = last_due(kind, today)
        for unit_id in unit_ids:
            if (str(unit_id), kind, period.start) not in have:
                out.append(Expected(str(unit_id), kind, period))
    return out
