"""FHIR R4 ``Questionnaire`` for an instrument and ``QuestionnaireResponse`` for a completed
assessment (pure: no Django).

HL7 FHIR R4 (4.0.1): a Questionnaire needs ``status`` and, per item, ``linkId`` and ``type``;
a QuestionnaireResponse needs ``status`` and, per item, ``linkId``. Item scores are carried as
the ``ordinalValue`` extension (http://hl7.org/fhir/StructureDefinition/ordinalValue,
valueDecimal; R5 renames it ``itemWeight``) on each ``answerOption``'s coding and on each
answer's coding: the score the option adds to the total, i.e. after reverse scoring, so that
the ordinal values of a response add up to its raw score. The total is a read-only item coded
with the LOINC total where there is one. LOINC codes are given only where CLINICAL.md lists
them as verified.
"""

from __future__ import annotations

from typing import Any

from xinqiao.instruments.engine import Instrument, Item, Option

LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
BASE = "urn:xinqiao:instrument:"


def questionnaire(instrument: Instrument, *, language: str = "zh") -> dict[str, Any]:
    zh = language.startswith("zh")
    meta = instrument.meta
    loinc = meta.get("loinc") or {}
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.code,
        "url": f"{BASE}{instrument.code}",
        "version": str(meta.get("version") or "1"),
        "name": instrument.code.upper(),
        "title": instrument.zh if zh else instrument.en,
        "status": "active",
        "language": "zh-CN" if zh else "en",
        "copyright": str((meta.get("licence") or {}).get("text", "")),
        "item": [],
    }
    if loinc.get("panel"):
        resource["code"] = [{"system": LOINC, "code": loinc["panel"]}]
    for item in instrument.items:
        entry: dict[str, Any] = {
            "linkId": str(item.number),
            "text": item.zh if zh else item.en,
            "type": "choice",
            "required": not item.optional,
            "answerOption": [
                {"valueCoding": _coding(instrument, o, zh), "extension": [_ordinal(item, o.value)]}
                for o in item.options
            ],
        }
        if item.loinc:
            entry["code"] = [{"system": LOINC, "code": item.loinc}]
        resource["item"].append(entry)
    total: dict[str, Any] = {
        "linkId": "total",
        "text": "总分" if zh else "Total score",
        "type": "integer",
        "readOnly": True,
    }
    if loinc.get("total"):
        total["code"] = [{"system": LOINC, "code": loinc["total"]}]
    resource["item"].append(total)
    return resource


def _coding(instrument: Instrument, option: Option, zh: bool) -> dict[str, Any]:
    """The option as a Coding (LOINC answer code where verified)."""
    code = (
        {"system": LOINC, "code": option.loinc}
        if option.loinc
        else {"system": f"{BASE}{instrument.code}:options", "code": str(option.value)}
    )
    return {**code, "display": option.zh if zh else option.en}


def _ordinal(item: Item, value: int) -> dict[str, Any]:
    return {"url": ORDINAL_VALUE, "valueDecimal": item.score_of(value)}


RESPONSE_STATUS = {
    "in_progress": "in-progress",
    "completed": "completed",
    "entered_in_error": "entered-in-error",
}


def questionnaire_response(
    instrument: Instrument,
    *,
    response_id: str,
    answers: list[int | None],
    status: str,
    authored: str,
    total: int | None,
    subject: str | None = None,
    language: str = "zh",
) -> dict[str, Any]:
    """One assessment as a QuestionnaireResponse: the chosen option of every answered item,
    and the total the bands apply to. ``subject`` is the person's id (a Patient reference);
    ``status`` is ours (in_progress, completed, entered_in_error)."""
    zh = language.startswith("zh")
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{BASE}{instrument.code}|{instrument.meta.get('version') or '1'}",
        "status": RESPONSE_STATUS[status],
        "authored": authored,
        "language": "zh-CN" if zh else "en",
        "item": [],
    }
    if subject:
        resource["subject"] = {"reference": f"Patient/{subject}", "type": "Patient"}
    for item, value in zip(instrument.items, answers, strict=False):
        if value is None:
            continue
        option = next(o for o in item.options if o.value == value)
        resource["item"].append(
            {
                "linkId": str(item.number),
                "text": item.zh if zh else item.en,
                "answer": [
                    {
                        "valueCoding": {
                            **_coding(instrument, option, zh),
                            "extension": [_ordinal(item, value)],
                        }
                    }
                ],
            }
        )
    if total is not None:
        resource["item"].append(
            {
                "linkId": "total",
                "text": "总分" if zh else "Total score",
                "answer": [{"valueInteger": total}],
            }
        )
    return resource
