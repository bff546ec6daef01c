"""``/api/v1/people/{id}/assessments/`` and ``/api/v1/assessments/{id}/`` (DESIGN.md "Stable
interfaces"): POST answers → 201 with the scoring contract plus ``id``; 409 without consent."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from xinqiao.assessments import actions
from xinqiao.assessments.access import access_assessment
from xinqiao.assessments.models import Assessment
from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.instruments.fhir import questionnaire_response
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, require
from xinqiao.people.access import ConsentMissing, access_person


def _language() -> str:
    return "zh" if (translation.get_language() or "zh").startswith("zh") else "en"


class AssessmentRequest(serializers.Serializer[Any]):
    instrument = serializers.CharField(max_length=32)
    answers = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), allow_empty=True, max_length=200
    )


class AssessmentResult(serializers.ModelSerializer[Assessment]):
    """The scoring contract (docs/instruments.md) plus the assessment's own fields."""

    severity = serializers.SerializerMethodField()
    person = serializers.UUIDField(source="person_id", read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "person",
            "instrument",
            "status",
            "mode",
            "raw",
            "total",
            "severity",
            "subscales",
            "critical_items",
            "flags",
            "intervention",
            "answers",
            "completed_at",
        ]

    def get_severity(self, assessment: Assessment) -> dict[str, Any] | None:
        band = assessment.band
        if band is None:
            return None
        return {
            "index": assessment.band_index,
            "code": band.code,
            "label": band.zh if _language() == "zh" else band.en,
        }


class PersonAssessments(generics.ListCreateAPIView[Assessment]):
    """A person's assessments (newest first); POST administers one (consent required)."""

    serializer_class = AssessmentResult

    def get_queryset(self) -> QuerySet[Assessment]:
        if getattr(self, "swagger_fake_view", False):
            return Assessment.objects.none()
        person = access_person(self.request.user, self.kwargs["person_id"])
        if not can(self.request.user, Action.ASSESSMENT_VIEW, person.unit):
            raise Http404
        log_access(
            self.request._request,
            person,
            kind=AccessKind.LIST,
            object_type="assessments.assessment",
        )
        return Assessment.objects.filter(person=person).order_by("-completed_at", "-started_at")

    @extend_schema(request=AssessmentRequest, responses={201: AssessmentResult})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = access_person(request.user, self.kwargs["person_id"])
        require(request.user, Action.ASSESSMENT_ADMINISTER, person.unit)
        data = AssessmentRequest(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            assessment = actions.record_assessment(
                acting_user=request.user,
                person=person,
                instrument=data.validated_data["instrument"],
                answers=data.validated_data["answers"],
                language=_language(),
            )
        except ConsentMissing as exc:
            return Response(
                {"consent": [str(exc)], "purpose": exc.purpose}, status=status.HTTP_409_CONFLICT
            )
        return Response(AssessmentResult(assessment).data, status=status.HTTP_201_CREATED)


class AssessmentView(generics.RetrieveAPIView[Assessment]):
    serializer_class = AssessmentResult

    def get_object(self) -> Assessment:
        assessment = access_assessment(self.request.user, self.kwargs["assessment_id"])
        log_access(self.request._request, assessment)
        return assessment


@extend_schema(responses=OpenApiTypes.OBJECT, operation_id="assessments_fhir_response")
@api_view(["GET"])
def assessment_fhir(request: Request, assessment_id: Any) -> Response:
    """The assessment as a FHIR R4 QuestionnaireResponse (item scores as ordinal values)."""
    assessment = access_assessment(request.user, assessment_id)
    log_access(request._request, assessment, kind=AccessKind.EXPORT)
    authored = assessment.completed_at or assessment.started_at
    return Response(
        questionnaire_response(
            assessment.instrument_definition,
            response_id=str(assessment.pk),
            answers=list(assessment.answers),
            status=assessment.status,
            authored=authored.isoformat(),
            total=assessment.total,
            subject=str(assessment.person_id) if assessment.person_id else None,
            language=_language(),
        )
    )
