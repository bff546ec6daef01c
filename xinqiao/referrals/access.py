"""Who sees a referral: one place, 404 outside scope (DESIGN.md, R-PRIVACY).

A referral belongs to two units. The sending side sees it with REFERRAL_SEND in the referring
unit's subtree, the receiving side with REFERRAL_RECEIVE in the receiving unit's subtree;
nobody else does, not even those who oversee the person's file (they see the referral's row in
the file's section, not its page). The receiving side sees what the referral page shows of
the person — never the whole file, for which it usually has no PERSON_VIEW.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, get_or_404, require_confidentiality_agreement, scope_paths
from xinqiao.people.models import Person
from xinqiao.referrals.models import Referral

SIDES = (Action.REFERRAL_SEND, Action.REFERRAL_RECEIVE)
_LOOKUPS = {Action.REFERRAL_SEND: "from_unit__path", Action.REFERRAL_RECEIVE: "to_unit__path"}


def _side_q(user: Any, action: Action) -> Q:
    q = Q(pk__in=[])
    for path in scope_paths(user, action):
        q |= Q(**{f"{_LOOKUPS[action]}__startswith": path})
    return q


def referrals_in_scope(user: Any, action: Action | None = None) -> QuerySet[Referral]:
    """Referrals ``user`` sent or may send from their units (REFERRAL_SEND) and those received
    by their units (REFERRAL_RECEIVE); ``action`` restricts to one side. Every list starts
    here."""
    if action is not None and action not in SIDES:
        raise ValueError(f"{action} is not a side of a referral")
    q = Q(pk__in=[])
    for side in (action,) if action is not None else SIDES:
        q |= _side_q(user, side)
    return Referral.objects.filter(q).select_related(
        "person__unit", "from_unit", "to_unit", "sent_by"
    )


def access_referral(user: Any, referral_id: Any, action: Action | None = None) -> Referral:
    """The referral, if it is in ``user``'s scope (on ``action``'s side, if given); 404
    otherwise, the same for "missing" and "not yours". The page shows a person's name and phone:
    a confidentiality agreement must be on file (seed 002 篇6 二(四))."""
    referral = get_or_404(referrals_in_scope(user, action), referral_id)
    require_confidentiality_agreement(user)
    return referral


def may_open(user: Any, referral: Referral) -> bool:
    """The same rule as ``referrals_in_scope``, for one referral already in hand."""
    return can(user, Action.REFERRAL_SEND, referral.from_unit) or can(
        user, Action.REFERRAL_RECEIVE, referral.to_unit
    )


def is_sender(user: Any, referral: Referral) -> bool:
    return can(user, Action.REFERRAL_SEND, referral.from_unit)


def is_receiver(user: Any, referral: Referral) -> bool:
    return can(user, Action.REFERRAL_RECEIVE, referral.to_unit)


def home_unit(person: Person) -> Unit:
    """The unit that looks after the person: their file's unit, or its community when the
    file sits in a grid (a grid is part of its community, seed 002 篇6 二(一) 属地管理)."""
    unit = person.unit
    if unit.kind == UnitKind.GRID and unit.parent is not None:
        return unit.parent
    return unit
