"""Background jobs of the risk part: handing committed signals to their subscribers."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from xinqiao.risk import actions


@db_task()
def dispatch_signal(signal_id: str) -> None:
    actions.dispatch(signal_id)


@db_periodic_task(crontab(minute="*"))
def dispatch_lost_signals() -> None:
    actions.dispatch_pending()
