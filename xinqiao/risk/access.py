"""Sensitive reads of the risk part: one place, 404 outside scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import get_or_404, require_confidentiality_agreement, scoped
from xinqiao.people.models import FileStatus, Person
from xinqiao.risk.models import ACTIVE_ALERT_STATUSES, Alert, SmiPatient


def alerts_in_scope(user: Any, action: Action = Action.ALERT_VIEW) -> QuerySet[Alert]:
    return scoped(
        Alert.objects.select_related("person__unit__parent", "acknowledged_by", "escalated_to"),
        user,
        action,
    )


def open_alerts(user: Any) -> QuerySet[Alert]:
    """Active alerts in the user's area, the most urgent and oldest first."""
    return (
        alerts_in_scope(user)
        .filter(status__in=[s.value for s in ACTIVE_ALERT_STATUSES])
        .order_by("level", "created_at")
    )


def access_alert(user: Any, alert_id: Any, action: Action = Action.ALERT_VIEW) -> Alert:
    alert = get_or_404(alerts_in_scope(user, action), alert_id)
    require_confidentiality_agreement(user)
    return alert


def key_people(user: Any) -> QuerySet[Person]:
    """The key-person list (重点人群, R-CRISIS; issue #5 item 6): everyone at level 1–2 or under
    severe-mental-disorder management in the user's area (seed 000 二(六)
    纳入重点人群实施网格化服务管理), with their level, responsible worker and contacts."""
    return (
        scoped(Person.objects.all(), user, Action.ALERT_VIEW)
        .filter(Q(risk__level__lte=2) | Q(smi__isnull=False), status=FileStatus.ACTIVE)
        .select_related("unit__parent", "risk__responsible", "smi")
    )


def access_smi_patient(user: Any, person_id: Any, action: Action = Action.ALERT_VIEW) -> SmiPatient:
    patient = get_or_404(
        scoped(SmiPatient.objects.select_related("person__unit__parent"), user, action), person_id
    )
    require_confidentiality_agreement(user)
    return patient
