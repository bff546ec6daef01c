"""Raising risk signals, and handing them to whoever subscribed.

``raise_signal`` writes the signal, the timeline event and a job that hands the signal to the
subscribers, all in the caller's transaction (a job kept in the database,
``xinqiao.ops.jobs``): a committed signal always reaches its subscribers, a rolled-back one
never does, and a worker that dies meanwhile leaves the job to another. Subscribers must be
idempotent: a job may run again after a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.ops.jobs import enqueue, handler
from xinqiao.orgs.models import Unit
from xinqiao.people.events import record_event
from xinqiao.people.models import EventKind, Person
from xinqiao.risk.models import RiskSignal, SignalLevel

Subscriber = Callable[[RiskSignal], None]
SUBSCRIBERS: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> Subscriber:
    """Register ``subscriber(signal)``; usable as a decorator."""
    if subscriber not in SUBSCRIBERS:
        SUBSCRIBERS.append(subscriber)
    return subscriber


def raise_signal(
    *,
    person: Person | None,
    unit: Unit,
    source: str,
    level: str,
    reasons: list[dict[str, Any]],
    obj: models.Model,
    actor: Any = None,
) -> RiskSignal:
    """Store a signal about ``obj`` (one per object) in the current transaction."""
    signal = RiskSignal.objects.create(
        person=person,
        unit=unit,
        source=source,
        level=level,
        reasons=reasons,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
    )
    if person is not None:
        record_event(
            person=person,
            kind=EventKind.RISK_SIGNAL,
            actor=actor,
            obj=signal,
            summary=_("%(level)s risk signal") % {"level": SignalLevel(level).label},
        )
    enqueue("risk.dispatch_signal", {"signal": str(signal.pk)}, key=f"signal:{signal.pk}")
    return signal


@handler("risk.dispatch_signal")
def _dispatch_job(payload: dict[str, Any]) -> None:
    dispatch(payload["signal"])


def dispatch(signal_id: Any) -> bool:
    """Hand one signal to every subscriber, once; False if it was handed over already."""
    signal = (
        RiskSignal.objects.select_for_update()
        .filter(pk=signal_id, dispatched_at__isnull=True)
        .first()
    )
    if signal is None:
        return False
    for subscriber in SUBSCRIBERS:
        subscriber(signal)
    signal.dispatched_at = timezone.now()
    signal.save(update_fields=["dispatched_at"])
    return True
