"""How often a person under service is followed up (随访间隔), and when next — pure.

MISSION.md R-FOLLOW. The interval is the shortest of the rules that apply to the person:

  under_service  at most 180 days, for everyone under service.
                 Seed 000 二(五): 原则上每半年至少开展一次随访.
  risk_level     the follow-up interval of the person's risk level in the city's response
                 matrix (defaults: crisis 1, high 7, moderate 30, general 180 days).
                 R-CRISIS 四级响应; docs/risk.md, xinqiao.risk.response.
  smi_status     a severe mental disorder under management: the national schedule for the
                 latest status — unstable or basically stable 14 days, stable 90 days (so at
                 least four follow-ups a year). 国家基本公共卫生服务规范（第三版）严重精神障碍
                 患者管理服务规范; CLINICAL.md, xinqiao.risk.smi.
  bereaved       family of a deceased person: a periodic reassessment, every 90 days.
                 Seed 002 篇6 三(三)1: 要定期评估病亡者家属心理健康状况 (the seed gives no
                 interval: quarterly is the platform's choice).

A visit that could not reach the person keeps the follow-up open: the next attempt is due
within three days (or the interval, if shorter), and after three attempts in a row the
follow-up is escalated to the responsible worker's supervisor. The seeds give no numbers for
this; they are the platform's, stated here so they can be read and changed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_DAYS = 180  # seed 000 二(五) 原则上每半年至少开展一次随访
BEREAVED_DAYS = 90  # seed 002 篇6 三(三)1 定期评估 (quarterly: the platform's choice)
UNREACHED_RETRY_DAYS = 3  # the platform's: try again within three days
UNREACHED_ESCALATE_AFTER = 3  # the platform's: three failed attempts in a row → supervisor

UNDER_SERVICE, RISK_LEVEL, SMI_STATUS, BEREAVED = (
    "under_service",
    "risk_level",
    "smi_status",
    "bereaved",
)


@dataclass(frozen=True)
class Interval:
    days: int
    rule: str  # the rule that set it (the first of the shortest, in the table's order)


def interval(*, level_days: int | None, smi_days: int | None, bereaved: bool) -> Interval:
    """The follow-up interval of a person under service.

    ``level_days``: the response matrix's follow-up interval at the person's risk level (None
    if no level is recorded); ``smi_days``: the national schedule's interval for the
    person's latest severe-mental-disorder status (None if not under SMI management);
    ``bereaved``: in the "family of a deceased person" group now."""
    candidates = [Interval(MAX_DAYS, UNDER_SERVICE)]
    if level_days is not None:
        candidates.append(Interval(_positive(level_days, "level_days"), RISK_LEVEL))
    if smi_days is not None:
        candidates.append(Interval(_positive(smi_days, "smi_days"), SMI_STATUS))
    if bereaved:
        candidates.append(Interval(BEREAVED_DAYS, BEREAVED))
    return min(candidates, key=lambda c: c.days)  # min keeps the first of equals


def next_due(*, last_contact: date | None, changed_on: date, days: int) -> date:
    """When the next follow-up is due: ``days`` after the last contact (or after
    ``changed_on`` — the plan's start or the change that rescheduled it — if nobody has been
    in contact yet), but never before ``changed_on``: a shorter interval makes the follow-up
    due at once, not overdue for a time before anyone knew."""
    base = last_contact or changed_on
    return max(changed_on, base + timedelta(days=_positive(days, "days")))


@dataclass(frozen=True)
class Unreached:
    due: date
    escalate: bool


def after_unreached(*, attempted_on: date, failed_in_a_row: int, days: int) -> Unreached:
    """A visit that could not reach the person (``failed_in_a_row`` counts this one): the
    next attempt's date, and whether the follow-up now goes to the supervisor."""
    if failed_in_a_row < 1:
        raise ValueError("failed_in_a_row counts the attempt just made: at least 1")
    retry = min(UNREACHED_RETRY_DAYS, _positive(days, "days"))
    return Unreached(
        due=attempted_on + timedelta(days=retry),
        escalate=failed_in_a_row >= UNREACHED_ESCALATE_AFTER,
    )


def overdue_days(*, due: date, today: date) -> int:
    """How many days past due (0 if not yet due)."""
    return max(0, (today - due).days)


def _positive(days: int, name: str) -> int:
    if days < 1:
        raise ValueError(f"{name} must be at least 1 day, not {days}")
    return days
