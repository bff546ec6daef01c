"""The hotline's periodic job: the daily early-warning run (issue #7 item 5)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from xinqiao.hotline import early_warning


# 22:15 UTC = 06:15 Asia/Shanghai (Huey reads crontabs in UTC, its default ``utc=True``):
# yesterday is complete, and the street office finds the report when the working day starts.
# Running twice the same day makes no second report (the unique constraint on source unit,
# category and day; ``early_warning.run``).
@db_periodic_task(crontab(minute="15", hour="22"))  # type: ignore[untyped-decorator]
def hotline_early_warning() -> None:
    early_warning.run()
