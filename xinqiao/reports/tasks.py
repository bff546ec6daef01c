"""Periodic jobs of the reports app, run by ``xinqiao worker`` (Huey)."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from xinqiao.ops import jobs
from xinqiao.reports import (
    tally,
    work_tasks,  # noqa: F401  (the daily work-report schedule and its job)
)


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def refresh_tallies() -> None:
    """Every minute: recount the (unit, day) pairs whose records changed (issue #9 item 5).
    One run at a time across all workers (``tally.refresh`` takes a row lock and skips when
    another worker holds it)."""
    tally.refresh_all()


@jobs.handler("reports.rebuild_tallies")
def rebuild_tallies(payload: dict[str, Any]) -> None:
    """Recount everything: enqueued when a unit moves in the tree (its subtree's rows are
    summed into new ancestors; a move rewrites paths with QuerySet.update, no signals)."""
    tally.rebuild()
