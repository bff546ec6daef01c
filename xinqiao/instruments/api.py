"""``POST /api/v1/score`` and ``GET /api/v1/instruments/`` (DESIGN.md "Stable interfaces")."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from xinqiao.instruments.engine import AnswerError, Instrument, score
from xinqiao.instruments.fhir import questionnaire
from xinqiao.instruments.library import get, library


class ScoreRequest(serializers.Serializer[Any]):
    instrument = serializers.CharField(max_length=32)
    answers = serializers.ListField(
        child=serializers.IntegerField(allow_null=True), allow_empty=True
    )


def _language() -> str:
    return "zh" if (translation.get_language() or "zh").startswith("zh") else "en"


@extend_schema(
    request=ScoreRequest,
    responses={
        200: inline_serializer(
            "ScoreResult",
            {
                "instrument": serializers.CharField(),
                "raw": serializers.IntegerField(),
                "total": serializers.IntegerField(),
                "severity": serializers.DictField(),
                "subscales": serializers.DictField(),
                "critical_items": serializers.ListField(child=serializers.IntegerField()),
                "flags": serializers.ListField(child=serializers.CharField()),
            },
        )
    },
)
@api_view(["POST"])
def score_answers(request: Request) -> Response:
    """Score answers on the server (the client's own total, if it sends one, is ignored)."""
    data = ScoreRequest(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        result = score(get(data.validated_data["instrument"]), data.validated_data["answers"])
    except AnswerError as exc:
        body: dict[str, Any] = {exc.field: [str(exc)]}
        if exc.item is not None:
            body["item"] = exc.item
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return Response(result.as_contract(_language()))


def describe(instrument: Instrument, *, with_items: bool) -> dict[str, Any]:
    low, high = instrument.total_range()
    meta = instrument.meta
    body: dict[str, Any] = {
        "code": instrument.code,
        "name": {"zh": instrument.zh, "en": instrument.en},
        "version": meta.get("version"),
        "items": len(instrument.items),
        "total_range": [low, high],
        "age": meta.get("age"),
        "repeat_interval_days": meta.get("repeat_interval_days"),
        "loinc": meta.get("loinc") or {},
        "licence": (meta.get("licence") or {}).get("text"),
        "citation": meta.get("citation"),
        "bands": [
            {
                "code": b.code,
                "min": b.low,
                "max": b.high,
                "zh": b.zh,
                "en": b.en,
                "intervention": b.intervention,
            }
            for b in instrument.bands
        ],
    }
    if with_items:
        body["instructions"] = meta.get("instructions")
        body["questions"] = [
            {
                "number": i.number,
                "zh": i.zh,
                "en": i.en,
                "scored": i.scored,
                "optional": i.optional,
                "options": [{"value": o.value, "zh": o.zh, "en": o.en} for o in i.options],
            }
            for i in instrument.items
        ]
    return body


@extend_schema(responses=OpenApiTypes.OBJECT, operation_id="instruments_list")
@api_view(["GET"])
def instrument_list(request: Request) -> Response:
    """The instruments in the library (codes, names, ranges, bands, licences)."""
    results = [describe(i, with_items=False) for _code, i in sorted(library().items())]
    return Response({"count": len(results), "next": None, "results": results})


@extend_schema(responses=OpenApiTypes.OBJECT, operation_id="instruments_fhir_questionnaire")
@api_view(["GET"])
def instrument_fhir(request: Request, code: str) -> Response:
    """The instrument as a FHIR R4 Questionnaire (LOINC codes where verified)."""
    try:
        instrument = get(code)
    except AnswerError:
        raise Http404 from None
    return Response(questionnaire(instrument, language=_language()))


@extend_schema(responses=OpenApiTypes.OBJECT, operation_id="instruments_retrieve")
@api_view(["GET"])
def instrument_detail(request: Request, code: str) -> Response:
    """One instrument with its items and options."""
    try:
        instrument = get(code)
    except AnswerError:
        raise Http404 from None
    return Response(describe(instrument, with_items=True))
