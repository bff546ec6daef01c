"""When an assessment result is a risk signal, and how urgent it is (pure: no Django).

MISSION.md R-RISK / R-CRISIS; issue #4 item 5: "a critical item or a severe band creates a
risk signal". A critical item is an answer at or above the item's alarm threshold in the
instrument file (e.g. PHQ-9 item 9 ≥ 1, CLINICAL.md "Instruments"; ASQ any "yes", NIMH ASQ
toolkit); a severe band is the instrument's most severe band, or any band whose suggested
intervention is "urgent". The risk levels and the response they fix (four-level response,
seed 000 二(六)) are the risk part's to decide; this only says which results must reach it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HIGH = "high"
MEDIUM = "medium"


@dataclass(frozen=True)
class SignalDecision:
    level: str
    reasons: list[dict[str, Any]]


def assessment_signal(
    *,
    critical_items: Sequence[int],
    flags: Sequence[str],
    band_code: str,
    band_index: int,
    band_count: int,
    intervention: str,
) -> SignalDecision | None:
    """The signal an assessment result raises, or None.

    * any critical item → high (the items are suicide or self-harm questions);
    * a band whose suggested intervention is "urgent" → high;
    * the most severe band of the instrument → medium.
    """
    reasons: list[dict[str, Any]] = [{"code": "critical_item", "item": n} for n in critical_items]
    most_severe = band_index == band_count - 1
    if intervention == "urgent" or most_severe:
        reasons.append({"code": "severe_band", "band": band_code, "index": band_index})
    if not reasons:
        return None
    level = HIGH if critical_items or intervention == "urgent" else MEDIUM
    if flags:
        reasons.append({"code": "flags", "flags": list(flags)})
    return SignalDecision(level=level, reasons=reasons)
