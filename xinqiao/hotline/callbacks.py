"""Call-back requests left on the portal (issue #8 item 2), the hotline's most urgent queue.

``request_callback`` is the one way a request is made: by the portal's crisis path ("I need
help now" → leave a number) and by a self-assessment result page that offers a call-back.
The number is validated and normalised (people.idcard), stored encrypted with the blind index
of person files, and the note beside it is triaged like a mailbox message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao.assessments.models import Assessment
from xinqiao.hotline.models import CallbackRequest, CallbackSource, CallbackStatus, Shift
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import Action, role_allows
from xinqiao.people.actions import phone_index
from xinqiao.people.idcard import InvalidNumber, normalise_phone

MAX_NOTE = 1000


def clean_phone(value: str) -> str:
    """A mobile or landline number, normalised; ValidationError on ``phone`` otherwise."""
    if not (value or "").strip():
        raise ValidationError({"phone": _("Enter the number we should call.")})
    try:
        return normalise_phone(value)
    except InvalidNumber:
        raise ValidationError(
            {"phone": _("This does not look like a phone number. Check the digits.")}
        ) from None


def request_callback(
    *,
    unit: Unit,
    phone: str,
    source: str,
    note: str = "",
    assessment: Assessment | None = None,
) -> CallbackRequest:
    """Record a request for the hotline to call ``phone`` back; it waits in the call-back
    queue of the hotline centres serving ``unit``."""
    if source not in CallbackSource.values:
        raise ValueError(source)
    number = clean_phone(phone)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(
            {"note": _("Please keep it under %(n)d characters.") % {"n": MAX_NOTE}}
        )
    from xinqiao.hotline.text import triage_text

    risk = triage_text(note).risk if note else "none"
    centre = serving_centre(unit)
    with transaction.atomic():
        callback = CallbackRequest.objects.create(
            unit=unit,
            centre=centre,
            source=source,
            phone=number,
            phone_index=phone_index(number),
            note=note,
            text_risk=risk,
            assessment=assessment,
        )
        _notify(callback)
        _raise_signal(callback)
        return callback


def _raise_signal(callback: CallbackRequest) -> None:
    """The request's risk signal (R-CRISIS), in the caller's transaction: the note's triage
    and, after a self-assessment, that assessment's own facts (its anonymous signal had
    nobody to reach; the number left now gives one). When the rules call for an alert it opens
    at once on an unnamed file at the portal's unit, with its handlers, deadline and
    escalation up the tree (risk.actions)."""
    from xinqiao.hotline import crisis
    from xinqiao.risk.models import RiskSignal, SignalSource

    facts: dict[str, Any] = {}
    if callback.assessment_id is not None:
        earlier = RiskSignal.objects.filter(
            object_type="assessments.assessment", object_id=str(callback.assessment_id)
        ).first()
        if earlier is not None:
            facts = {k: v for k, v in earlier.facts.items() if k != "source"}
    facts["text_risk"] = callback.text_risk
    _signal, person, alert = crisis.raise_contact_signal(
        obj=callback,
        unit=callback.unit,
        person=None,
        source=SignalSource.PORTAL_CALLBACK,
        facts=facts,
        unnamed_label=f"门户回电 {callback.pk.hex[:8].upper()}",
    )
    if person is not None:
        callback.person = person
        callback.alert = alert
        callback.save(update_fields=["person", "alert"])


def serving_centre(unit: Unit) -> Unit:
    """The hotline centre that calls back for ``unit``'s portal (R-CRISIS): the unit itself
    if it is one, else the nearest one walking up the ancestors (a centre that is a child of
    an ancestor, nearest ancestor first); none → the unit itself."""
    if unit.kind == UnitKind.HOTLINE_CENTRE and unit.is_active:
        return unit
    for ancestor in unit.ancestors().order_by("-depth"):
        centre = (
            Unit.objects.filter(parent=ancestor, kind=UnitKind.HOTLINE_CENTRE, is_active=True)
            .order_by("created_at")
            .first()
        )
        if centre is not None:
            return centre
    return unit


def on_call(centre: Unit) -> list[Any]:
    """Who hears of a new request: the operators on shift now at ``centre``; if nobody is,
    every active user holding the call-back permission there (a grant on the centre or above
    it), so a request is never left unannounced."""
    now = timezone.now()
    on_shift = [
        s.operator
        for s in Shift.objects.filter(
            seat__centre=centre, starts_at__lte=now, ends_at__gt=now, operator__is_active=True
        ).select_related("operator")
    ]
    if on_shift:
        return on_shift
    return [
        m.user
        for m in Membership.objects.filter(
            unit__in=centre.ancestors(), user__is_active=True
        ).select_related("user")
        if role_allows(m.role, Action.CALLBACK_TAKE)
    ]


def _notify(callback: CallbackRequest) -> None:
    """In the caller's transaction: no number, no note, only that someone is waiting."""
    from xinqiao.notify.actions import notify

    url = reverse("hotline:callback", kwargs={"callback_id": callback.pk})
    by_language: dict[str, list[Any]] = {}
    for user in on_call(callback.centre or callback.unit):
        by_language.setdefault(user.language or "zh-hans", []).append(user)
    for language, users in by_language.items():
        with translation.override(language):
            subject = _("Call-back requested from the portal: %(unit)s") % {
                "unit": callback.unit.name
            }
            body = _("Someone left a number and is waiting for a call. Open the call-back queue.")
        notify(recipients=users, subject=str(subject), body=str(body), url=url, obj=callback)


# --- the queue (staff) ----------------------------------------------------------------------------

# After this many unanswered attempts a request is closed as unreachable: the platform's own
# rule, the same count as a follow-up visit's "could not reach" (followups.schedule
# UNREACHED_ESCALATE_AFTER); no seed fixes it. A request at risk has its crisis alert, which
# stays open and escalates whatever happens to the call-back.
MAX_ATTEMPTS = 3


def _locked(callback_id: Any) -> CallbackRequest:
    # Row lock on the request only (``of=self``: PostgreSQL refuses FOR UPDATE on the nullable
    # side of the outer joins that select_related would add).
    return CallbackRequest.objects.select_for_update(of=("self",)).get(pk=callback_id)


def _move(callback: CallbackRequest, target: str) -> None:
    if target not in CallbackRequest.TRANSITIONS[callback.status]:
        raise ValidationError(
            {"status": _("This call-back is no longer in a state that allows this.")}
        )
    callback.status = target


def take_callback(*, acting_user: Any, callback: CallbackRequest) -> CallbackRequest:
    """ "I'm calling now": waiting → calling, taken by ``acting_user`` (others see who)."""
    with transaction.atomic():
        locked = _locked(callback.pk)
        _move(locked, CallbackStatus.CALLING)
        locked.taken_by = acting_user
        locked.taken_at = timezone.now()
        locked.save(update_fields=["status", "taken_by", "taken_at"])
        return locked


def _require_taker(callback: CallbackRequest, user: Any) -> None:
    if callback.taken_by_id != user.pk:
        raise ValidationError({"status": _("Another operator is calling this number.")})


def no_answer(*, acting_user: Any, callback: CallbackRequest, note: str = "") -> CallbackRequest:
    """ "No answer — try again later": calling → waiting with one more attempt; after
    ``MAX_ATTEMPTS`` attempts → unreachable (a short note says what was tried)."""
    note = (note or "").strip()
    with transaction.atomic():
        locked = _locked(callback.pk)
        _require_taker(locked, acting_user)
        locked.attempts += 1
        if locked.attempts >= MAX_ATTEMPTS:
            _move(locked, CallbackStatus.UNREACHABLE)
            locked.closed_at = timezone.now()
            locked.closed_by = acting_user
            locked.outcome = note[:MAX_NOTE] or _("No answer after %(n)d attempts.") % {
                "n": locked.attempts
            }
        else:
            _move(locked, CallbackStatus.WAITING)
            locked.taken_by = None
            locked.taken_at = None
        locked.save(
            update_fields=[
                "status",
                "attempts",
                "taken_by",
                "taken_at",
                "closed_at",
                "closed_by",
                "outcome",
            ]
        )
        return locked


def link_call(*, acting_user: Any, callback: CallbackRequest, call: Any) -> CallbackRequest:
    """The person was reached and the call logged: calling → done, the call linked. Runs in
    the transaction that saved the call, so the call and the closed request commit together."""
    with transaction.atomic():
        locked = _locked(callback.pk)
        _require_taker(locked, acting_user)
        _move(locked, CallbackStatus.DONE)
        locked.call = call
        locked.closed_at = timezone.now()
        locked.closed_by = acting_user
        locked.save(update_fields=["status", "call", "closed_at", "closed_by"])
        return locked
