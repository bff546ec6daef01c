"""``GET /api/v1/alerts/?status=open`` and ``POST /api/v1/alerts/{id}/acknowledge``
(DESIGN.md "Stable interfaces")."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import require, require_confidentiality_agreement
from xinqiao.risk import actions
from xinqiao.risk.access import access_alert, alerts_in_scope
from xinqiao.risk.models import Alert, AlertStatus


class AlertSerializer(serializers.ModelSerializer[Alert]):
    person = serializers.UUIDField(source="person_id", read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "person",
            "level",
            "status",
            "created",
            "ack_deadline",
            "acknowledged_at",
            "escalation_step",
        ]


class AlertList(generics.ListAPIView[Alert]):
    """Crisis alerts in the caller's area, the most urgent first; ``?status=open`` (or any
    status) filters."""

    serializer_class = AlertSerializer

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=AlertStatus.values, required=False)]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Alert]:
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        require(self.request.user, Action.ALERT_VIEW)
        require_confidentiality_agreement(self.request.user)
        alerts = alerts_in_scope(self.request.user)
        wanted = self.request.query_params.get("status")
        if wanted:
            alerts = alerts.filter(status=wanted)
        log_access(self.request._request, None, kind=AccessKind.LIST, object_type="risk.alert")
        return alerts.order_by("level", "created_at")


@extend_schema(request=None, responses={200: AlertSerializer, 409: dict})
@api_view(["POST"])
def acknowledge(request: Request, alert_id: Any) -> Response:
    """Acknowledge an alert. Of two people acknowledging at once exactly one wins; the other
    gets 409 with who did."""
    alert = access_alert(request.user, alert_id)
    try:
        alert = actions.acknowledge_alert(acting_user=request.user, alert=alert)
    except actions.AlreadyAcknowledged as exc:
        return Response(exc.message_dict, status=status.HTTP_409_CONFLICT)
    return Response(AlertSerializer(alert).data)
