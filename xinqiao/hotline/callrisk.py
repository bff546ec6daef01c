"""The risk of a hotline call from the suicide-risk questions asked on it (pure core).

The questions are those of the Columbia Suicide Severity Rating Scale screener (C-SSRS
"Screen Version", the Columbia Protocol; Posner K, Brown GK, Stanley B et al. The
Columbia-Suicide Severity Rating Scale: initial validity and internal consistency findings
from three multisite studies with adolescents and adults. Am J Psychiatry 2011;168:1266-1277).
The screener's triage, as printed on the Columbia Protocol screener card:

* Q1 wish to be dead, Q2 non-specific active suicidal thoughts: yes to either only → low risk;
* Q3 thoughts of a method (without intent or plan) → moderate risk;
* Q4 intent to act, Q5 a specific plan (or preparation) → high risk;
* Q6 suicidal behaviour (an attempt or preparatory acts) in the past 3 months → high risk.

A threat to harm others is not a C-SSRS item; it is one of the signal classes of issue #7
(item 4: "suicide, self-harm, harm-to-others") and is treated as high here, a crisis to be
handled at once (MISSION.md R-CRISIS): someone may be in danger now.

The operator may raise the level (they heard the call), never lower it below the answers.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS: tuple[str, ...] = ("none", "low", "medium", "high")


@dataclass(frozen=True)
class RiskAnswers:
    wish_dead: bool = False
    ideation: bool = False
    method: bool = False
    intent: bool = False
    plan: bool = False
    behaviour: bool = False
    harm_others: bool = False


def rank(level: str) -> int:
    """0 for none … 3 for high; ValueError for anything else."""
    try:
        return LEVELS.index(level)
    except ValueError:
        raise ValueError(f"unknown risk level {level!r}") from None


def highest(*levels: str) -> str:
    return LEVELS[max((rank(level) for level in levels), default=0)]


def from_answers(answers: RiskAnswers) -> str:
    """The level the screener's answers give (C-SSRS screener triage, Posner et al. 2011)."""
    if answers.intent or answers.plan or answers.behaviour or answers.harm_others:
        return "high"
    if answers.method:
        return "medium"
    if answers.wish_dead or answers.ideation:
        return "low"
    return "none"


def call_risk(answers: RiskAnswers, chosen: str = "none") -> str:
    """The call's risk: the operator's ``chosen`` level, but never below the answers."""
    return highest(from_answers(answers), chosen)
