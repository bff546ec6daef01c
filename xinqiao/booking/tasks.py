"""Periodic jobs of appointments: the day-before reminders (R-BOOK)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from xinqiao.booking.actions import send_reminders


@db_periodic_task(crontab(minute="5"))  # type: ignore[untyped-decorator]
def remind_appointments() -> None:
    """Hourly: every appointment starting within a day is reminded once."""
    send_reminders()
