"""Objects and rules of the scope matrix (tests/test_scope_matrix.py) for the hotline's calls
and roster: a seat, a shift and a call belonging to the matrix's ``unit``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from xinqiao.hotline.actions import new_reference
from xinqiao.hotline.models import Call, Seat, Shift
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    now = timezone.now().replace(microsecond=0)
    seat = Seat.objects.create(centre=unit, name=f"矩阵-{unit.pk.hex[:8]}")
    shift = Shift.objects.create(
        seat=seat,
        operator=staff,
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=8),
        created_by=staff,
    )
    call = Call.objects.create(
        reference=new_reference(),
        centre=unit,
        operator=staff,
        started_at=now - timedelta(minutes=20),
        ended_at=now - timedelta(minutes=5),
        caller_type="self",
        risk="none",
        notes="矩阵测试记录",
        callback_at=now + timedelta(hours=2),
    )
    return {"seat_id": seat, "shift_id": shift, "call_id": call}


def skip_inside(route: str, user: Any) -> bool:
    """Calls and the roster are for those who see hotline calls (HOTLINE_CALL_VIEW); the
    roster's writes for those who manage it (covered in tests/test_hotline.py)."""
    if route.startswith("/hotline/calls/") or route.startswith("/hotline/roster/"):
        return not can(user, Action.HOTLINE_CALL_VIEW)
    return False
