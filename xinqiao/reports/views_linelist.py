"""The download of a unit's de-identified line list (issue #9 item 4; R-PRIVACY): for holders
of ``report.line_list`` in scope with a confidentiality agreement on file (seed 002 篇6 二(四)
签署保密协定); every download is written to the access log with its number of rows, never
the rows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.orgs.scope import require_confidentiality_agreement
from xinqiao.reports import linelist
from xinqiao.reports.views import parse_period

# The access log's object type of a line-list download (its object id is the unit's).
OBJECT_TYPE = "reports.line_list"


def _text(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@login_required
@require_GET
def line_list(request: HttpRequest, unit_id: Any) -> HttpResponse:
    """``?period=…`` (or ``start`` and ``end``) as on the dashboard: the period over which
    completed assessments are counted; the rest describes the people as they are today."""
    unit = linelist.access_line_list(request.user, unit_id)
    require_confidentiality_agreement(request.user)
    period, errors = parse_period(request)
    if period is None:
        return _text("; ".join(f"{k}: {v}" for k, v in errors.items()), 400)
    today = timezone.localdate()
    try:
        result = linelist.build(unit=unit, period=period, today=today)
    except linelist.TooFewPeople as refused:
        # R-PRIVACY: a list of a handful of people identifies them; refused, not trimmed.
        return _text(
            _(
                "No line list for %(unit)s: it has fewer than %(floor)d people under service, "
                "and a list that small would identify them. Use the dashboard's counts instead."
            )
            % {"unit": unit.name, "floor": refused.floor},
            409,
        )
    log_access(
        request,
        unit,
        kind=AccessKind.EXPORT,
        object_type=OBJECT_TYPE,
        unit_path=unit.path,
        reason=f"de-identified line list: {len(result)} rows, {period.start}..{period.end}",
    )
    response = HttpResponse(linelist.to_csv(result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="line-list-{period.start}-{period.end}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response
