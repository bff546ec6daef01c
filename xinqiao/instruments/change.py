"""Change between two scores of one person on one instrument (效果评估) — pure.

MISSION.md R-REPORT (change in scores, effect evaluation); issue #6 "Outcome tracking".

Reliable change (Jacobson & Truax 1991, "Clinical significance: a statistical approach to
defining meaningful change in psychotherapy research", J Consult Clin Psychol 59(1):12–19):

    RCI = (x_post − x_pre) / S_diff,   S_diff = √(2 · SE²),   SE = s₁ · √(1 − r_xx)

with s₁ the standard deviation of the pre-treatment scores and r_xx the measure's
reliability; |RCI| > 1.96 is a change larger than measurement error would give (p < .05).

For PHQ-9 and GAD-7 the criteria in routine use are the IAPT / NHS Talking Therapies ones
(Gyani, Shafran, Layard & Clark 2013, "Enhancing recovery rates: lessons from year one of
IAPT", Behav Res Ther 51:597–606; the NHS Talking Therapies Manual):
  * reliable improvement: a fall of at least 6 points on PHQ-9, 4 on GAD-7 (a rise of as
    much: reliable deterioration);
  * caseness: PHQ-9 ≥ 10, GAD-7 ≥ 8; recovery: a case at the first score and not at the
    last; reliable recovery: both. Recovery rates count only those who were cases at first.
Higher scores are worse on both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

Z_95 = 1.96  # Jacobson & Truax 1991: p < .05, two-sided


def reliable_change_index(pre: float, post: float, *, sd: float, reliability: float) -> float:
    """Jacobson & Truax's RCI for one person (negative: the score fell)."""
    return (post - pre) / standard_error_of_difference(sd=sd, reliability=reliability)


def standard_error_of_difference(*, sd: float, reliability: float) -> float:
    if sd <= 0:
        raise ValueError("sd must be positive")
    if not 0 <= reliability < 1:
        raise ValueError("reliability must be at least 0 and below 1")
    standard_error = sd * math.sqrt(1 - reliability)
    return math.sqrt(2 * standard_error**2)


def reliable_change_points(*, sd: float, reliability: float) -> float:
    """The smallest change in points that is reliable: 1.96 · S_diff."""
    return Z_95 * standard_error_of_difference(sd=sd, reliability=reliability)


@dataclass(frozen=True)
class Criteria:
    reliable_points: int  # a change of at least this many points is reliable
    caseness: int  # a score at or above this is a clinical case


# Gyani et al. 2013; NHS Talking Therapies Manual (see the module docstring).
CRITERIA: dict[str, Criteria] = {
    "phq9": Criteria(reliable_points=6, caseness=10),
    "gad7": Criteria(reliable_points=4, caseness=8),
}


@dataclass(frozen=True)
class Change:
    delta: int  # last − first
    reliably_improved: bool
    reliably_deteriorated: bool
    case_at_first: bool
    recovered: bool  # a case at first, not at the last
    reliably_recovered: bool  # recovered and reliably improved


def classify(instrument: str, first: int, last: int) -> Change:
    """The change from a person's first to their last score on ``instrument``."""
    criteria = CRITERIA.get(instrument)
    if criteria is None:
        raise ValueError(f"no change criteria for {instrument!r}")
    delta = last - first
    improved = -delta >= criteria.reliable_points
    case_at_first = first >= criteria.caseness
    recovered = case_at_first and last < criteria.caseness
    return Change(
        delta=delta,
        reliably_improved=improved,
        reliably_deteriorated=delta >= criteria.reliable_points,
        case_at_first=case_at_first,
        recovered=recovered,
        reliably_recovered=recovered and improved,
    )


@dataclass(frozen=True)
class Summary:
    people: int  # with a first and a last score
    cases_at_first: int  # the denominator of the recovery rates
    reliably_improved: int
    reliably_deteriorated: int
    recovered: int
    reliably_recovered: int

    @property
    def reliable_improvement_rate(self) -> float | None:
        return self.reliably_improved / self.people if self.people else None

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.cases_at_first if self.cases_at_first else None

    @property
    def reliable_recovery_rate(self) -> float | None:
        return self.reliably_recovered / self.cases_at_first if self.cases_at_first else None


def summarise(instrument: str, pairs: Iterable[tuple[int, int]]) -> Summary:
    """Counts over (first, last) score pairs, one per person."""
    changes = [classify(instrument, first, last) for first, last in pairs]
    return Summary(
        people=len(changes),
        cases_at_first=sum(c.case_at_first for c in changes),
        reliably_improved=sum(c.reliably_improved for c in changes),
        reliably_deteriorated=sum(c.reliably_deteriorated for c in changes),
        recovered=sum(c.recovered for c in changes),
        reliably_recovered=sum(c.reliably_recovered for c in changes),
    )
