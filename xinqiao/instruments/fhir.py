"""FHIR R4 ``Questionnaire`` for an instrument (pure: no Django).

HL7 FHIR R4 (4.0.1): a Questionnaire needs ``status`` and, per item, ``linkId`` and ``type``.
Item scores are carried as the ``ordinalValue`` extension on each ``answerOption``
(http://hl7.org/fhir/StructureDefinition/ordinalValue, valueDecimal; R5 renames it
``itemWeight``). LOINC codes are given only where CLINICAL.md lists them as verified.
"""

from __future__ import annotations

from typing import Any

from xinqiao.instruments.engine import Instrument

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
                {
                    "valueCoding": {
                        **(
                            {"system": LOINC, "code": o.loinc}
                            if o.loinc
                            else {
                                "system": f"{BASE}{instrument.code}:options",
                                "code": str(o.value),
                            }
                        ),
                        "display": o.zh if zh else o.en,
                    },
                    "extension": [{"url": ORDINAL_VALUE, "valueDecimal": o.value}],
                }
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
