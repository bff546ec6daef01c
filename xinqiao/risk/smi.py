"""Severe mental disorders (严重精神障碍): risk grade, status and the follow-up schedule (pure).

Source: 国家基本公共卫生服务规范（第三版）, 严重精神障碍患者管理服务规范; 严重精神障碍管理治疗
工作规范（2018年版） — as checked in CLINICAL.md ("Severe mental disorders"); MISSION.md R-SMI.

Risk grade, assessed at every follow-up:
  0  none of the behaviours of grades 1–5
  1  verbal threats, shouting, no smashing
  2  smashing at home, against property, stops when persuaded
  3  obvious smashing, anywhere, against property, does not stop when persuaded
  4  persistent smashing, anywhere, against property or people, does not stop when persuaded
     (includes self-harm and suicide)
  5  any violence against people with a weapon, or arson or explosion, at home or in public

Status and next follow-up:
  unstable          grade 3–5, or marked psychotic symptoms, no insight, a serious adverse
                    drug reaction or a serious physical illness → treat, refer to a higher
                    hospital at once (police if needed); if not admitted, follow up within
                    2 weeks
  basically stable  grade 1–2, or symptoms, insight or social function poor in at least one
                    → adjust, follow up at 2 weeks
  stable            grade 0, symptoms largely gone, insight largely back, social function fair
                    or good, no serious adverse reaction, physical illness stable → 3 months
At least four follow-ups a year (the longest interval, 3 months, keeps to it).
"""

from __future__ import annotations

from dataclasses import dataclass

GRADES = (0, 1, 2, 3, 4, 5)
# The diagnoses under management (the six severe mental disorders of the specification).
DIAGNOSES = (
    "schizophrenia",  # 精神分裂症 F20
    "schizoaffective",  # 分裂情感性障碍 F25
    "delusional",  # 持久的妄想性障碍（偏执性精神病）F22
    "bipolar",  # 双相（情感）障碍 F31
    "epilepsy_mental",  # 癫痫所致精神障碍 F06
    "intellectual_disability_psychotic",  # 精神发育迟滞伴发精神障碍 F7x
)
STABLE, BASICALLY_STABLE, UNSTABLE = "stable", "basically_stable", "unstable"
MIN_FOLLOWUPS_PER_YEAR = 4
# The next follow-up by status (the table above): within / at 2 weeks unless stable, 3 months.
NOT_STABLE_DAYS = 14
STABLE_DAYS = 90


@dataclass(frozen=True)
class Findings:
    grade: int  # 0–5
    symptoms: str  # "none" (largely gone) | "present" | "marked"
    insight: str  # "good" (largely back) | "partial" | "none"
    social_function: str  # "good" | "fair" | "poor"
    adverse_reaction: str  # "none" | "mild" | "serious"
    physical_illness: str  # "none" | "stable" | "serious"


@dataclass(frozen=True)
class Outcome:
    status: str
    next_days: int
    refer_now: bool  # to a higher hospital at once (the green channel)


def assess(f: Findings) -> Outcome:
    """The status and the next follow-up for one follow-up's findings."""
    if f.grade not in GRADES:
        raise ValueError(f"risk grade {f.grade} is not 0–5")
    if (
        f.grade >= 3
        or f.symptoms == "marked"
        or f.insight == "none"
        or f.adverse_reaction == "serious"
        or f.physical_illness == "serious"
    ):
        return Outcome(UNSTABLE, NOT_STABLE_DAYS, True)
    if (
        f.grade in (1, 2)
        or f.symptoms != "none"
        or f.insight != "good"
        or f.social_function == "poor"
    ):
        return Outcome(BASICALLY_STABLE, NOT_STABLE_DAYS, False)
    return Outcome(STABLE, STABLE_DAYS, False)


def enough_followups(dates_in_last_year: int) -> bool:
    return dates_in_last_year >= MIN_FOLLOWUPS_PER_YEAR
