"""Who sees hotline calls and the roster: one place, 404 outside scope (DESIGN.md, R-PRIVACY).

HOTLINE_CALL_VIEW in the call's centre's subtree sees that a call took place (when, who
called in categories, the problems, the risk, what was done); only HOTLINE_NOTES_VIEW (those who
take calls, and the clinical roles) reads the notes and the call-back number, and every such read
is written to the access log (``log_notes_read``). A linked person's name is shown only to those
who may open that file.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.hotline.models import Call, HotlineTraining, Seat, Shift
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, get_or_404, scoped
from xinqiao.people.access import people_in_scope


def calls_in_scope(user: Any, action: Action = Action.HOTLINE_CALL_VIEW) -> QuerySet[Call]:
    return scoped(
        Call.objects.select_related("centre", "operator", "seat", "area", "alert"), user, action
    )


def access_call(user: Any, call_id: Any, action: Action = Action.HOTLINE_CALL_VIEW) -> Call:
    """The call, if in ``user``'s scope with ``action``; 404 otherwise."""
    return get_or_404(calls_in_scope(user, action), call_id)


def may_read_notes(user: Any, call: Call) -> bool:
    return can(user, Action.HOTLINE_NOTES_VIEW, call.centre)


def may_open_person(user: Any, call: Call) -> bool:
    return call.person_id is not None and people_in_scope(user).filter(pk=call.person_id).exists()


def read_notes(request: HttpRequest, call: Call) -> str | None:
    """The notes for someone allowed to read them (the read is logged, ids only); None else."""
    if not may_read_notes(request.user, call):
        return None
    log_access(
        request,
        call,
        kind=AccessKind.VIEW,
        object_type="hotline.call",
        reason="call notes",
        unit_path=call.centre.path,
    )
    return str(call.notes)


def seats_in_scope(user: Any, action: Action = Action.HOTLINE_CALL_VIEW) -> QuerySet[Seat]:
    return scoped(Seat.objects.select_related("centre"), user, action)


def access_seat(user: Any, seat_id: Any, action: Action = Action.HOTLINE_ROSTER) -> Seat:
    return get_or_404(seats_in_scope(user, action), seat_id)


def shifts_in_scope(user: Any, action: Action = Action.HOTLINE_CALL_VIEW) -> QuerySet[Shift]:
    return scoped(Shift.objects.select_related("seat__centre", "operator"), user, action)


def access_shift(user: Any, shift_id: Any, action: Action = Action.HOTLINE_ROSTER) -> Shift:
    return get_or_404(shifts_in_scope(user, action), shift_id)


def trainings_in_scope(
    user: Any, action: Action = Action.HOTLINE_CALL_VIEW
) -> QuerySet[HotlineTraining]:
    return scoped(HotlineTraining.objects.select_related("operator", "centre"), user, action)
