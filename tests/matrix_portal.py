"""Objects and rules of the scope matrix (tests/test_scope_matrix.py) for this app (issue #8)."""

from __future__ import annotations

from typing import Any

from xinqiao.hotline.callbacks import request_callback
from xinqiao.hotline.models import CallbackRequest, CallbackSource
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    """``callback_id`` → a call-back request left on ``unit``'s portal (generated number);
    ``ref`` → the unit itself (a portal address is the unit's id: public by design, its QR
    code hangs on a wall; tests/test_portal.py).

    The request is kept in the unit's own queue (centre = the unit): the matrix checks the
    unit half of the scope rule. The other half — the operators of the serving hotline centre
    see requests from units outside their own, by design (R-CRISIS) — is tested in
    tests/test_callbacks.py (routing, another centre's operator 404, outsiders 404)."""
    callback = request_callback(
        unit=unit, phone="13900000001", source=CallbackSource.CRISIS, note="矩阵"
    )
    CallbackRequest.objects.filter(pk=callback.pk).update(centre=unit)
    return {"callback_id": callback, "ref": unit}


def skip_inside(route: str, user: Any) -> bool:
    # The public portal has its own credentials (tests/test_portal*.py).
    if route.startswith("/p/"):
        return True
    # The call-back queue is for those who take call-backs (operators, counsellors):
    # others get 404 even inside their units (tests/test_callbacks.py).
    return route.startswith("/hotline/callbacks/") and not can(user, Action.CALLBACK_TAKE)
