"""Who sees emerging-issue reports and their example notes: one place, 404 outside scope.

A report is seen with ``TRENDS_VIEW`` where it was sent or where it counted; its example notes
(decrypted, then masked by ``trends.anonymise``) only with ``TRENDS_EXAMPLES_VIEW``, from the
calls and messages in that action's scope, and every read is in the access log.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from xinqiao.audit.log import log_access
from xinqiao.hotline import trends
from xinqiao.hotline.models import EmergingIssueReport
from xinqiao.orgs.models import UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, get_or_404, scope_paths

EXAMPLES = 5


def reports_in_scope(
    user: Any, action: Action = Action.TRENDS_VIEW
) -> QuerySet[EmergingIssueReport]:
    """Reports sent to a unit in scope, or counting calls and messages of a unit in scope."""
    paths = scope_paths(user, action)
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(unit__path__startswith=p) | Q(source_unit__path__startswith=p)
    return EmergingIssueReport.objects.filter(q).select_related("unit", "source_unit")


def access_report(user: Any, report_id: Any) -> EmergingIssueReport:
    if not can(user, Action.TRENDS_VIEW):
        raise Http404
    return get_or_404(reports_in_scope(user), report_id)


def may_read_examples(user: Any) -> bool:
    return can(user, Action.TRENDS_EXAMPLES_VIEW)


def read_examples(request: HttpRequest, report: EmergingIssueReport) -> list[dict[str, str]]:
    """A few anonymised notes of the calls and messages counted on the alarm day, among those
    the user may read examples of; the read is written to the access log."""
    user = request.user
    log_access(request, report, reason="examples")
    since, until = trends.day_bounds(report.day, report.day)
    source = report.source_unit
    calls = trends.calls_in_scope(user, Action.TRENDS_EXAMPLES_VIEW).filter(
        started_at__gte=since, started_at__lt=until
    )
    messages = trends.messages_in_scope(user, Action.TRENDS_EXAMPLES_VIEW).filter(
        created_at__gte=since, created_at__lt=until
    )
    if source.kind == UnitKind.HOTLINE_CENTRE:
        calls = calls.filter(centre=source)
        messages = messages.filter(unit=source)
    else:
        calls = calls.filter(area=source)
        messages = messages.filter(area=source)
    if report.category:
        calls = calls.filter(problems__group=report.category).distinct()
        messages = messages.filter(category=report.category)
    out: list[dict[str, str]] = []
    for call in calls.select_related("person").order_by("started_at")[: EXAMPLES * 3]:
        if not call.notes.strip():
            continue
        names = [call.person.name] if call.person is not None else []
        out.append({"kind": _("Call"), "text": trends.anonymise(call.notes, names=names)})
        if len(out) >= EXAMPLES:
            return out
    for message in messages.select_related("person").order_by("created_at")[: EXAMPLES * 3]:
        names = [message.person.name] if message.person is not None else []
        out.append({"kind": _("Message"), "text": trends.anonymise(message.body, names=names)})
        if len(out) >= EXAMPLES:
            break
    return out
