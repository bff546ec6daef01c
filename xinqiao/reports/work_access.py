"""Who sees and does what with work reports: one place, 404 outside scope, 403 inside scope
without the permission (xinqiao.orgs.scope conventions).

* The reporting units are communities, streets and districts (not the city, which reports to
  nobody on this platform, nor grids, which report through their community).
* A report is written and submitted by those who hold ``WORK_REPORT_WRITE`` in its unit itself
  (a street administrator writes the street's report, not its communities').
* Those who hold ``REPORT_VIEW`` in the unit itself see its reports in every status; those who
  hold it in a unit above see only what was sent up (submitted or read): until then the report
  is the unit's draft.
* A report is read and marked read by a holder of ``WORK_REPORT_REVIEW`` in a unit strictly
  above its unit (the street for its communities, the district for its streets, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action, role_allows
from xinqiao.orgs.scope import get_or_404, grants, scope_paths, scoped
from xinqiao.reports import work_periods
from xinqiao.reports.work_models import SENT_UP, WorkReport, WorkReportKind

REPORTING_KINDS = (UnitKind.COMMUNITY, UnitKind.STREET, UnitKind.DISTRICT)
# Large columns left out of lists.
HEAVY = ("snapshot", "pdf", "xlsx")


def _paths(user: Any, action: Action) -> list[str]:
    return [g.path for g in grants(user) if role_allows(g.role, action)]


def is_reporting(unit: Unit) -> bool:
    return unit.kind in REPORTING_KINDS and unit.is_active


def may_write(user: Any, unit: Unit) -> bool:
    """Holds ``WORK_REPORT_WRITE`` in ``unit`` itself."""
    return unit.path in _paths(user, Action.WORK_REPORT_WRITE)


def may_review(user: Any, unit: Unit) -> bool:
    """Holds ``WORK_REPORT_REVIEW`` in a unit strictly above ``unit``."""
    return any(
        unit.path.startswith(p) and unit.path != p for p in _paths(user, Action.WORK_REPORT_REVIEW)
    )


def sees_drafts(user: Any, unit: Unit) -> bool:
    """Sees the unit's reports before they are sent up: ``REPORT_VIEW`` in the unit itself."""
    return unit.path in _paths(user, Action.REPORT_VIEW)


def may_see(user: Any, report: WorkReport) -> bool:
    return sees_drafts(user, report.unit) or (
        report.status in SENT_UP
        and any(
            report.unit.path.startswith(p) and report.unit.path != p
            for p in _paths(user, Action.REPORT_VIEW)
        )
    )


def visible(user: Any) -> QuerySet[WorkReport]:
    """Every report ``user`` may open (without the large columns)."""
    own = _paths(user, Action.REPORT_VIEW)
    above = scope_paths(user, Action.REPORT_VIEW)
    q = Q(pk__in=[])
    for p in own:
        q |= Q(unit__path=p)
    sent = Q(pk__in=[])
    for p in above:
        sent |= Q(unit__path__startswith=p) & ~Q(unit__path=p)
    q |= sent & Q(status__in=[s.value for s in SENT_UP])
    return WorkReport.objects.filter(q).select_related("unit").defer(*HEAVY)


def sent_up_to(user: Any) -> QuerySet[WorkReport]:
    """Reports submitted (or read) by units strictly below where ``user`` reviews."""
    q = Q(pk__in=[])
    for p in scope_paths(user, Action.WORK_REPORT_REVIEW):
        q |= Q(unit__path__startswith=p) & ~Q(unit__path=p)
    return (
        WorkReport.objects.filter(q, status__in=[s.value for s in SENT_UP])
        .select_related("unit", "submitted_by", "read_by")
        .defer(*HEAVY)
    )


def reviewed_units(user: Any) -> QuerySet[Unit]:
    """The reporting units strictly below where ``user`` reviews."""
    q = Q(pk__in=[])
    for p in scope_paths(user, Action.WORK_REPORT_REVIEW):
        q |= Q(path__startswith=p) & ~Q(path=p)
    return Unit.objects.filter(q, kind__in=REPORTING_KINDS, is_active=True)


def own_units(user: Any) -> list[Unit]:
    """The reporting units where ``user`` holds ``REPORT_VIEW`` in the unit itself."""
    ids = [g.unit_id for g in grants(user) if role_allows(g.role, Action.REPORT_VIEW)]
    return list(
        Unit.objects.filter(pk__in=ids, kind__in=REPORTING_KINDS, is_active=True).order_by(
            "depth", "name"
        )
    )


def access_work_report(user: Any, report_id: Any, *, documents: bool = False) -> WorkReport:
    """The report, or 404 — the same for "does not exist", "outside your units" and "not sent
    up yet" (for those above the unit). ``documents`` loads the PDF and the workbook too."""
    queryset = scoped(
        WorkReport.objects.select_related("unit", "submitted_by", "read_by", "created_by"),
        user,
        Action.REPORT_VIEW,
    )
    if not documents:
        queryset = queryset.defer("pdf", "xlsx")
    report = get_or_404(queryset, report_id)
    if not may_see(user, report):
        raise Http404
    return report


def access_reporting_unit(user: Any, unit_id: Any) -> Unit:
    """A unit whose reports the user may see (``REPORT_VIEW`` in scope), or 404. Units that
    do not report (a city, a grid, a hospital) are in scope all the same: their page says so."""
    return get_or_404(scoped(Unit.objects.all(), user, Action.REPORT_VIEW), unit_id)


def require_writer(user: Any, unit: Unit) -> None:
    if not may_write(user, unit):
        raise PermissionDenied(_("Only the unit's own staff who write its reports may do this."))


def require_commenter(user: Any, unit: Unit) -> None:
    """The unit's writers and the reviewers above it may comment on its reports."""
    if not (may_review(user, unit) or may_write(user, unit)):
        raise PermissionDenied(_("You do not have permission to do this."))


def require_reviewer(user: Any, unit: Unit) -> None:
    if not may_review(user, unit):
        raise PermissionDenied(
            _("Only a reviewer of a unit above this one may mark its reports read.")
        )


@dataclass(frozen=True)
class Late:
    """A report due and not sent up: one that exists (``report``) or one never made."""

    unit: Unit
    kind: str
    start: date
    end: date
    due: date
    days: int
    report: WorkReport | None

    @property
    def kind_label(self) -> str:
        return str(WorkReportKind(self.kind).label)

    @property
    def status_label(self) -> str:
        if self.report is None:
            return _("Not made")
        return str(self.report.get_status_display())


def late_units(user: Any) -> QuerySet[Unit]:
    """The reporting units whose late reports ``user`` is shown: those strictly below where
    they review, and those they belong to."""
    q = Q(pk__in=[g.unit_id for g in grants(user) if role_allows(g.role, Action.REPORT_VIEW)])
    for p in scope_paths(user, Action.WORK_REPORT_REVIEW):
        q |= Q(path__startswith=p) & ~Q(path=p)
    return Unit.objects.filter(q, kind__in=REPORTING_KINDS, is_active=True)


def late(user: Any, today: date, *, unit: Unit | None = None, limit: int = 200) -> list[Late]:
    """Reports due and not submitted, of the units the user reviews (strictly below) and of
    the units they belong to, oldest due first; with ``unit``, of that unit only. Reports
    that were never made are listed for the most recent period already due. Queries stay
    subqueries over the tree (no list of every unit of a city is read)."""
    units = late_units(user)
    if unit is not None:
        units = units.filter(pk=unit.pk)
    rows = (
        WorkReport.objects.filter(unit__in=units, due_on__lt=today)
        .exclude(status__in=[s.value for s in SENT_UP])
        .select_related("unit")
        .defer(*HEAVY)
        .order_by("due_on", "kind", "unit__path")
    )
    out = [
        Late(
            unit=r.unit,
            kind=r.kind,
            start=r.period_start,
            end=r.period_end,
            due=r.due_on,
            days=work_periods.days_late(r.due_on, today),
            report=r if may_see(user, r) else None,
        )
        for r in rows[:limit]
    ]
    for kind in work_periods.KINDS:
        period = work_periods.last_due(kind, today)
        due = work_periods.due_on(kind, period)
        made = WorkReport.objects.filter(kind=kind, period_start=period.start).values("unit_id")
        for absent in units.exclude(pk__in=made).order_by("path")[:limit]:
            out.append(
                Late(
                    unit=absent,
                    kind=kind,
                    start=period.start,
                    end=period.end,
                    due=due,
                    days=work_periods.days_late(due, today),
                    report=None,
                )
            )
    out.sort(key=lambda item: (item.due, item.kind, item.unit.path))
    return out[:limit]
