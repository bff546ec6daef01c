"""Reporting periods: the period a user picks on a dashboard, and the weeks and months of the
work reports (seed 001 四 / 000 三(三) 工作报告制度: weekly and monthly reports). Pure: no
Django import; dates are local dates (Asia/Shanghai), both ends included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

# The longest period a dashboard counts at once: ten years of days.
MAX_DAYS = 3660

CHOICES = (
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "this_year",
    "last_year",
    "custom",
)


class PeriodError(ValueError):
    """Bad period input; ``field`` names the parameter ("start", "end" or "period")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    code: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def week_of(day: date) -> Period:
    """Monday to Sunday (GB/T 7408 / ISO 8601 weeks)."""
    start = day - timedelta(days=day.weekday())
    return Period(start, start + timedelta(days=6), "week")


def month_of(day: date) -> Period:
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period(start, following - timedelta(days=1), "month")


def quarter_of(day: date) -> Period:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    end = month_of(date(day.year, first_month + 2, 1)).end
    return Period(start, end, "quarter")


def named(code: str, today: date) -> Period:
    if code == "this_week":
        return Period(week_of(today).start, today, code)
    if code == "last_week":
        last = week_of(today - timedelta(days=7))
        return Period(last.start, last.end, code)
    if code == "this_month":
        return Period(today.replace(day=1), today, code)
    if code == "last_month":
        last = month_of(today.replace(day=1) - timedelta(days=1))
        return Period(last.start, last.end, code)
    if code == "this_quarter":
        return Period(quarter_of(today).start, today, code)
    if code == "this_year":
        return Period(date(today.year, 1, 1), today, code)
    if code == "last_year":
        return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), code)
    raise PeriodError("period", "unknown period")


def parse(params: Mapping[str, str], today: date) -> Period:
    """The period of a dashboard request: ``period`` (one of CHOICES, default this_month), and
    for ``custom`` the ``start`` and ``end`` dates (YYYY-MM-DD). Raises ``PeriodError`` naming
    the field; the message is English and the caller translates it."""
    code = (params.get("period") or "").strip() or (
        "custom" if params.get("start") or params.get("end") else "this_month"
    )
    if code not in CHOICES:
        raise PeriodError("period", "Choose one of the periods offered.")
    if code != "custom":
        return named(code, today)
    start = _date(params, "start")
    end = _date(params, "end")
    if end < start:
        raise PeriodError("end", "The period ends before it starts.")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError("end", "A period may be at most ten years long.")
    return Period(start, end, "custom")


def _date(params: Mapping[str, str], field: str) -> date:
    raw = (params.get(field) or "").strip()
    if not raw:
        raise PeriodError(field, "Enter a date.")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PeriodError(field, "Enter a date as YYYY-MM-DD.") from None


def bucket(period: Period) -> str:
    """How a time series over the period is drawn: by day up to 62 days, by week up to a
    year and a half, by month beyond (a year-long chart is never 8,760 hourly points)."""
    if period.days <= 62:
        return "day"
    if period.days <= 550:
        return "week"
    return "month"


def bucket_start(day: date, size: str) -> date:
    if size == "week":
        return week_of(day).start
    if size == "month":
        return day.replace(day=1)
    return day
