"""Data scope in one place (MISSION.md R-ORG, R-PRIVACY; DESIGN.md "Data and privacy").

A user's scope is the subtree of every active unit they hold a membership in; the role in that
membership decides what they may do there (``xinqiao.orgs.permissions``). Every list starts from
``scoped(queryset, user)`` and every object is fetched through an ``access_*`` helper that raises
``Http404`` both for "does not exist" and for "not yours", so nothing outside the scope leaks
its existence.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.orgs.models import ConfidentialityAgreement, Membership, Team, Unit
from xinqiao.orgs.permissions import ADMIN_ROLES, GRANTABLE_ROLES, Action, Role, role_allows

if TYPE_CHECKING:
    from xinqiao.accounts.models import User

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Grant:
    role: str
    unit_id: uuid.UUID
    path: str


def grants(user: Any) -> list[Grant]:
    """The user's active memberships as (role, unit path), cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached: list[Grant] | None = getattr(user, "_xinqiao_grants", None)
    if cached is None:
        cached = [
            Grant(role=m.role, unit_id=m.unit_id, path=m.unit.path)
            for m in Membership.objects.filter(user=user, unit__is_active=True).select_related(
                "unit"
            )
        ]
        user._xinqiao_grants = cached
    return cached


def forget_grants(user: Any) -> None:
    if hasattr(user, "_xinqiao_grants"):
        del user._xinqiao_grants


def scope_paths(user: Any, action: Action = Action.UNIT_VIEW) -> list[str]:
    """Roots of the subtrees where ``user`` may perform ``action``, without nested duplicates."""
    paths = sorted({g.path for g in grants(user) if role_allows(g.role, action)})
    roots: list[str] = []
    for path in paths:
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def _path_q(lookup: str, paths: list[str]) -> Q:
    if not paths:
        return Q(pk__in=[])
    q = Q()
    for path in paths:
        q |= Q(**{f"{lookup}__startswith": path})
    return q


# How each model reaches the unit path that decides its scope.
_PATH_LOOKUPS: dict[str, str] = {
    "orgs.unit": "path",
    "orgs.membership": "unit__path",
    "orgs.team": "unit__path",
    "orgs.teammember": "team__unit__path",
}


def scoped(queryset: QuerySet[M], user: Any, action: Action = Action.UNIT_VIEW) -> QuerySet[M]:
    """Restrict ``queryset`` to what ``user`` may see (or do ``action`` on)."""
    model = queryset.model
    label = model._meta.label_lower
    paths = scope_paths(user, action)
    if label == "accounts.user":
        in_scope = Membership.objects.filter(user=OuterRef("pk")).filter(
            _path_q("unit__path", paths)
        )
        # People always see their own account.
        return queryset.filter(Exists(in_scope) | Q(pk=getattr(user, "pk", None)))
    lookup = _PATH_LOOKUPS.get(label) or getattr(model, "scope_path_lookup", None)
    if lookup is None:
        raise TypeError(f"{label} has no scope rule; add one to xinqiao.orgs.scope")
    return queryset.filter(_path_q(lookup, paths))


def can(user: Any, action: Action, unit: Unit | None = None) -> bool:
    """May ``user`` do ``action`` at ``unit`` (or anywhere, if no unit is given)?"""
    for grant in grants(user):
        if role_allows(grant.role, action) and (unit is None or unit.path.startswith(grant.path)):
            return True
    return False


def require(user: Any, action: Action, unit: Unit | None = None) -> None:
    """403 for an object the user can already see but may not act on."""
    if not can(user, action, unit):
        raise PermissionDenied(_("You do not have permission to do this."))


def can_act_on_staff(user: Any, action: Action, person: Any) -> bool:
    """May ``user`` do ``action`` to ``person``: in some unit where ``person`` holds a role?"""
    units = [m.unit for m in Membership.objects.filter(user=person).select_related("unit")]
    return any(can(user, action, unit) for unit in units)


def is_administrator(user: Any) -> bool:
    return any(g.role in ADMIN_ROLES for g in grants(user))


def can_grant(user: Any, role: Role, unit: Unit) -> bool:
    """May ``user`` give someone ``role`` in ``unit``? Only below their own rank, in scope."""
    for grant in grants(user):
        if not unit.path.startswith(grant.path):
            continue
        if not role_allows(grant.role, Action.STAFF_MANAGE):
            continue
        if role in GRANTABLE_ROLES.get(Role(grant.role), frozenset()):
            return True
    return False


def get_or_404(queryset: QuerySet[M], object_id: Any) -> M:
    try:
        return queryset.get(pk=object_id)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404 from None


def access_unit(user: Any, unit_id: Any, action: Action = Action.UNIT_VIEW) -> Unit:
    return get_or_404(scoped(Unit.objects.all(), user, action), unit_id)


def access_team(user: Any, team_id: Any, action: Action = Action.TEAM_VIEW) -> Team:
    return get_or_404(scoped(Team.objects.select_related("unit"), user, action), team_id)


def access_membership(
    user: Any, membership_id: Any, action: Action = Action.STAFF_VIEW
) -> Membership:
    queryset = Membership.objects.select_related("unit", "user")
    return get_or_404(scoped(queryset, user, action), membership_id)


def access_staff(user: Any, staff_id: Any, action: Action = Action.STAFF_VIEW) -> User:
    from xinqiao.accounts.models import User

    if str(staff_id) == str(getattr(user, "pk", "")):
        return user  # type: ignore[no-any-return]
    if not can(user, action):
        raise Http404
    return get_or_404(scoped(User.objects.all(), user, action), staff_id)


def has_confidentiality_agreement(user: Any) -> bool:
    """A signed agreement in force today (seed 002 篇6 二(四) 签署保密协定)."""
    today = timezone.localdate()
    return ConfidentialityAgreement.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today),
        user=user,
        revoked_at__isnull=True,
        signed_on__lte=today,
    ).exists()


def require_confidentiality_agreement(user: Any) -> None:
    """Called before any person file is opened: no agreement on file, no file."""
    if not has_confidentiality_agreement(user):
        raise PermissionDenied(
            _(
                "You have no confidentiality agreement on file. Ask your administrator to "
                "record the one you signed before you open person files."
            )
        )
