"""Objects and rules of the scope matrix (tests/test_scope_matrix.py) for the work reports
(issue #9 item 3): a monthly report of the community, submitted, so that the levels above see
it too (a report not yet submitted is the unit's own: tests/test_work_reports covers that)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can
from xinqiao.reports.work_models import WorkReport, WorkReportStatus


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    report = WorkReport.objects.create(
        unit=unit,
        kind="monthly",
        period_start=date(2026, 2, 1),
        period_end=date(2026, 2, 28),
        due_on=date(2026, 3, 5),
        status=WorkReportStatus.SUBMITTED,
        snapshot={"unit": {"name": unit.name}, "threshold": 5, "sections": []},
        pdf=b"%PDF-matrix",
        xlsx=b"PK-matrix",
        generated_at=timezone.now(),
        submitted_at=timezone.now(),
        submitted_by=staff,
    )
    return {"work_report_id": report}


def skip_inside(route: str, user: Any) -> bool:
    """Work reports are for those who see the dashboards (test_work_reports covers the
    others' 404)."""
    return route.startswith("/reports/work/") and not can(user, Action.REPORT_VIEW)
