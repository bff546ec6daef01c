"""Who sees which dashboard, and whether its small counts are hidden: one place.

A dashboard is seen with ``REPORT_VIEW`` for a unit in that action's scope (404 outside the
user's scope, 403 inside it without the permission). Its figures are shown in full only to
those who work in the unit that owns the people — a member of the community (or of another
unit below the street level) looking at that very unit; everyone else sees small counts
suppressed (issue #9 item 4; DESIGN.md "Data and privacy": aggregates that leave a unit).
"""

from __future__ import annotations

from typing import Any

from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action, role_allows
from xinqiao.orgs.scope import access_unit, grants, require, scope_paths

# Units whose figures always combine several owning units.
ROLL_UP_KINDS = frozenset({UnitKind.CITY, UnitKind.DISTRICT, UnitKind.STREET})


def access_dashboard(user: Any, unit_id: Any) -> Unit:
    unit = access_unit(user, unit_id)
    require(user, Action.REPORT_VIEW, unit)
    return unit


def must_suppress(user: Any, unit: Unit) -> bool:
    if unit.kind in ROLL_UP_KINDS:
        return True
    return not any(
        g.unit_id == unit.pk and role_allows(g.role, Action.REPORT_VIEW) for g in grants(user)
    )


def home_unit(user: Any) -> Unit | None:
    """The highest unit where the user sees reports (their first one, by tree order)."""
    paths = scope_paths(user, Action.REPORT_VIEW)
    return Unit.objects.filter(path__in=paths).order_by("depth", "path").first()
