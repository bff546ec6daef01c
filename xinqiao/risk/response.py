"""The response matrix (四级响应): for each risk level, who is told, how soon someone must
acknowledge, what must be done, and how often the person is followed up (pure: no Django).

These are the defaults shipped; a city changes them on its response page (``ResponsePolicy``
rows override a level). Sources:
- seed 003 "建立四级响应处置机制, 分级分类 … 实施心理疏导和危机干预" (a four-level response);
- seed 000 二(六): people whose results or behaviour show a problem get timely one-to-one
  intervention; obvious suicide or self-harm risk → contact the designated hospital for
  admission; the community keeps them on the key-person list under grid management;
  R-CRISIS: the responsible counsellor and the street office are notified (报告街道);
- seed 000 二(五): everyone under service is followed up at least once every six months.
The acknowledgement deadlines are ours (minutes for a crisis: "reached in minutes"); a city
should set them to what its staff can keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from xinqiao.followups.schedule import MAX_DAYS as MAX_FOLLOWUP_DAYS
from xinqiao.risk.rules import CRISIS, GENERAL, HIGH, MODERATE

# The required actions (their labels: ``xinqiao.risk.models.RequiredAction``):
#   one_to_one_and_hospital  one-to-one intervention now; assess for admission to the
#                            designated hospital; report to the street office
#   one_to_one               one-to-one intervention within a day; assess suicide risk
#   counsellor_contact       a counsellor contacts the person within three days
#   routine_follow_up        routine follow-up and mental-health education
ACTIONS = ("one_to_one_and_hospital", "one_to_one", "counsellor_contact", "routine_follow_up")


@dataclass(frozen=True)
class Response:
    level: int
    alert: bool  # whether a signal at this level raises a crisis alert
    ack_minutes: int  # an alert not acknowledged by then escalates up the tree
    notify_team: bool  # the community's team is told, not only the counsellors
    notify_street: bool  # the street office is told at once (报告街道)
    action: str  # key of ACTIONS
    followup_days: int  # the person's follow-up interval at this level


DEFAULT_MATRIX: dict[int, Response] = {
    CRISIS: Response(CRISIS, True, 15, True, True, "one_to_one_and_hospital", 1),
    HIGH: Response(HIGH, True, 60, True, False, "one_to_one", 7),
    MODERATE: Response(MODERATE, True, 24 * 60, False, False, "counsellor_contact", 30),
    # Seed 000 二(五): at least once every six months (the follow-up schedule's cap).
    GENERAL: Response(
        GENERAL, False, 7 * 24 * 60, False, False, "routine_follow_up", MAX_FOLLOWUP_DAYS
    ),
}


def matrix(overrides: Mapping[int, Mapping[str, object]] | None = None) -> dict[int, Response]:
    """The defaults with a city's overrides (field → value per level) applied."""
    result = dict(DEFAULT_MATRIX)
    for level, changes in (overrides or {}).items():
        result[level] = replace(result[level], **changes)  # type: ignore[arg-type]
    return result


def check(response: Response) -> list[str]:
    """Problems of a configured row (empty if it is usable)."""
    problems = []
    if not 1 <= response.ack_minutes <= 7 * 24 * 60:
        problems.append("ack_minutes")
    if not 1 <= response.followup_days <= MAX_FOLLOWUP_DAYS:
        problems.append("followup_days")
    if response.action not in ACTIONS:
        problems.append("action")
    return problems
