"""Objects and rules of the scope matrix (tests/test_scope_matrix.py) for the trends part of
the hotline app: an emerging-issue report about, and sent to, the community."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from xinqiao.hotline.models import EmergingIssueReport
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    day = timezone.localdate() - timedelta(days=1)
    report = EmergingIssueReport.objects.create(
        unit=unit,
        source_unit=unit,
        category="negative_emotion",
        day=day,
        method="cusum_glm",
        observed=9,
        expected=2.0,
        score=3.0,
        series=[[day.isoformat(), 9]],
    )
    return {"report_id": report}


def skip_inside(route: str, user: Any) -> bool:
    """Reports are for those who see trends (test_trends covers the others' 404)."""
    return route.startswith("/hotline/reports/") and not can(user, Action.TRENDS_VIEW)
