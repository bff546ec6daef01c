"""The work reports' periodic job: the daily schedule (issue #9 item 3, 工作报告制度)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from xinqiao.reports import work_actions


# 17:40 UTC = 01:40 Asia/Shanghai (Huey reads crontabs in UTC, its default ``utc=True``): the
# week or month that ended at midnight is complete and its aggregates (refreshed every minute)
# are up to date, and the reports are ready when the working day starts. Running twice makes
# nothing new (``schedule_due`` is idempotent).
@db_periodic_task(crontab(minute="40", hour="17"))  # type: ignore[untyped-decorator]
def work_reports_schedule() -> None:
    work_actions.schedule_due()
