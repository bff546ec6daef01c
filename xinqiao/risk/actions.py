"""Raising risk signals, and handing them to whoever subscribed (transactional outbox).

``raise_signal`` writes the signal and the timeline event in the caller's transaction. Once
that transaction commits, the signal is dispatched to the subscribers (a background job, so a
slow subscriber never holds up the respondent); a periodic sweep dispatches any signal whose
job was lost, so a committed signal always reaches its subscribers, and a rolled-back one
never does. Subscribers must be idempotent: after a crash a signal may be handed over again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
    signal_id = str(signal.pk)
    transaction.on_commit(lambda: _enqueue(signal_id))
    return signal


def _enqueue(signal_id: str) -> None:
    from xinqiao.risk.tasks import dispatch_signal

    dispatch_signal(signal_id)


def dispatch(signal_id: Any) -> bool:
    """Hand one signal to every subscriber, once; False if another worker has it or had it."""
    with transaction.atomic():
        signal = (
            RiskSignal.objects.select_for_update(skip_locked=True)
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


def dispatch_pending(*, older_than_seconds: int = 60, limit: int = 500) -> int:
    """Dispatch signals whose job was lost (committed more than a minute ago, not handed over)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        RiskSignal.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for signal_id in ids if dispatch(signal_id))
