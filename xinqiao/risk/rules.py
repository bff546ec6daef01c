"""Risk levels from risk signals: one readable rule table (pure: no Django).

MISSION.md R-RISK (四级响应, 分级分类): every person has a current risk level derived from
assessments, critical items, workers' reports, hotline calls and clinical grade, and each level
fixes who acts, how fast and how often (``xinqiao/risk/response.py``).

Levels (smaller is more urgent, as the guideline numbers its groups):
  1 crisis    imminent risk of suicide, self-harm or violence — one-to-one intervention now
  2 high      a risk of suicide or self-harm, or a serious mental or behavioural problem
  3 moderate  marked distress that needs a counsellor's follow-up
  4 general   under service, no sign of risk

A signal's level is the most urgent level of the rules it meets; a person's level rises to a
signal's level at once and is lowered only by a counsellor or psychiatrist with a reason,
never by a newer milder result (issue #5 item 2; ``xinqiao.risk.actions``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

CRISIS, HIGH, MODERATE, GENERAL = 1, 2, 3, 4
LEVELS = (CRISIS, HIGH, MODERATE, GENERAL)

# What a worker may tick when reporting a concern (issue #5 item 1), each with its level.
CONCERN_BEHAVIOURS: dict[str, int] = {
    "suicide_talk": CRISIS,  # talks of suicide or of wanting to die
    "self_harm": CRISIS,  # has harmed themself
    "threats_to_others": CRISIS,  # threatens to harm others
    "agitation": HIGH,  # agitated, out of control
    "severe_insomnia": MODERATE,
    "not_eating": MODERATE,
    "shut_in": MODERATE,  # shuts themself in, withdrawn
}


@dataclass(frozen=True)
class Rule:
    code: str
    level: int
    applies: Callable[[Mapping[str, Any]], bool]
    source: str  # the kind of signal it reads
    citation: str


def _critical_value(facts: Mapping[str, Any], instrument: str, item: int) -> int:
    if facts.get("instrument") != instrument:
        return -1
    for reason in facts.get("reasons", ()):
        if reason.get("code") == "critical_item" and reason.get("item") == item:
            return int(reason.get("value", -1))
    return -1


def _flag(flag: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda facts: flag in facts.get("flags", ())


def _behaviour(level: int) -> Callable[[Mapping[str, Any]], bool]:
    return lambda facts: any(
        CONCERN_BEHAVIOURS.get(b) == level for b in facts.get("behaviours", ())
    )


RULES: tuple[Rule, ...] = (
    # --- assessments ---------------------------------------------------------------------
    Rule(
        "asq_acute",
        CRISIS,
        _flag("acute_suicide_risk"),
        "assessment",
        "NIMH ASQ toolkit: 'yes' to question 5 is an acute positive screen (imminent risk): "
        "the patient needs a full mental health evaluation before leaving, not left alone.",
    ),
    Rule(
        "phq9_item9_nearly_every_day",
        CRISIS,
        lambda f: max(_critical_value(f, "phq9", 9), _critical_value(f, "phqa", 9)) >= 3,
        "assessment",
        "Simon GE et al. Psychiatr Serv 2013;64(12):1195-1202: answering 'nearly every day' to "
        "PHQ-9 item 9 carried about ten times the risk of a suicide attempt in the next 30 "
        "days; seed 000 二(六) 明显自杀自伤风险 → 及时与定点医院联系.",
    ),
    Rule(
        "suicide_risk_item",
        HIGH,
        lambda f: bool(
            {"suicidal_ideation", "suicide_risk_positive", "suicide_attempt_history"}
            & set(f.get("flags", ()))
        ),
        "assessment",
        "Any endorsement of a suicide item (PHQ-9/PHQ-A item 9 ≥ 1, CLINICAL.md; ASQ positive "
        "screen, NIMH toolkit: brief suicide safety assessment; SDS item 19) needs a "
        "clinician's assessment of suicide risk the same day.",
    ),
    Rule(
        "urgent_band",
        HIGH,
        lambda f: f.get("intervention") == "urgent",
        "assessment",
        "Seed 000 二(六): results showing a mental-health problem → timely one-to-one "
        "intervention; the instrument file marks the band 'urgent'.",
    ),
    Rule(
        "most_severe_band",
        MODERATE,
        lambda f: (
            f.get("band_index") is not None and f.get("band_index") == f.get("band_count", 0) - 1
        ),
        "assessment",
        "Seed 000 二(六): 测评结果提示有心理健康问题 → 重点干预对象 (key intervention target).",
    ),
    # --- a worker's report of a concern ----------------------------------------------------
    Rule(
        "concern_crisis_behaviour",
        CRISIS,
        _behaviour(CRISIS),
        "concern_report",
        "R-CRISIS: suicide or self-harm risk, or risk of harming others, raises an alert at "
        "once; seed 000 二(六) 明显自杀自伤风险.",
    ),
    Rule(
        "concern_high_behaviour",
        HIGH,
        _behaviour(HIGH),
        "concern_report",
        "R-CRISIS: severe mental or behavioural problem; seed 000 二(六) 严重心理行为问题.",
    ),
    # The free text of the report passes text triage (issue #7 item 4). It speaks of the person
    # in the third person, which the triage reads one level lower than the writer's own words
    # (xinqiao.hotline.triage); so a "medium" note — "他说不想活了，已经写好遗书" — is a
    # high-risk report and a "high" one a crisis (R-CRISIS).
    Rule(
        "concern_note_high",
        CRISIS,
        lambda f: f.get("source") == "concern_report" and f.get("note_risk") == "high",
        "concern_report",
        "R-CRISIS: the report's words tell of suicide, self-harm or harm to others now.",
    ),
    Rule(
        "concern_note_medium",
        HIGH,
        lambda f: f.get("source") == "concern_report" and f.get("note_risk") == "medium",
        "concern_report",
        "R-CRISIS; seed 000 二(六): the report's words tell of suicidal thoughts or acute "
        "distress of the person.",
    ),
    Rule(
        "concern_reported",
        MODERATE,
        lambda f: f.get("source") == "concern_report",
        "concern_report",
        "Seed 000 二(六): people reported by workers as behaving abnormally "
        "(基层工作人员反映有心理行为异常) are key intervention targets.",
    ),
    # --- hotline calls and mailbox messages (R-HOTLINE, R-MAILBOX) ---------------------------
    Rule(
        "hotline_high",
        CRISIS,
        lambda f: f.get("source") == "hotline_call" and f.get("call_risk") == "high",
        "hotline_call",
        "R-HOTLINE: a call flagged high risk is a crisis (seed 002 篇6 (五)2).",
    ),
    Rule(
        "hotline_medium",
        HIGH,
        lambda f: f.get("source") == "hotline_call" and f.get("call_risk") == "medium",
        "hotline_call",
        "R-HOTLINE: a call flagged at risk needs a counsellor's contact.",
    ),
    Rule(
        "mailbox_high",
        HIGH,
        lambda f: f.get("source") == "mailbox" and f.get("text_risk") == "high",
        "mailbox",
        "R-MAILBOX: risk words in a message raise an alert.",
    ),
    Rule(
        "callback_note_high",
        HIGH,
        lambda f: f.get("source") == "portal_callback" and f.get("text_risk") == "high",
        "portal_callback",
        "R-CRISIS, issue #8 item 2: a number left on the portal with risk words beside it "
        "raises an alert, as a mailbox message does (R-MAILBOX). A call-back after a "
        "self-assessment carries that assessment's facts, so the assessment rules above apply "
        "to it too: now there is someone to reach.",
    ),
    # --- hospitals and severe mental disorders (R-REFER, R-SMI) -----------------------------
    Rule(
        "hospital_discharge",
        MODERATE,
        lambda f: f.get("source") == "hospital_discharge",
        "hospital_discharge",
        "Seed 000 二(六); seed 002 篇1 (九): a patient discharged back to the community is "
        "followed up by the community; the weeks after discharge carry a raised risk.",
    ),
    Rule(
        "smi_grade_violent",
        CRISIS,
        lambda f: f.get("source") == "smi_grade" and int(f.get("grade", 0)) >= 4,
        "smi_grade",
        "国家基本公共卫生服务规范(第三版) 严重精神障碍患者管理: risk grade 4–5 (persistent "
        "smashing, violence against people, self-harm, arson) — unstable, refer at once, "
        "police if needed (CLINICAL.md).",
    ),
    Rule(
        "smi_grade_unstable",
        HIGH,
        lambda f: f.get("source") == "smi_grade" and int(f.get("grade", 0)) == 3,
        "smi_grade",
        "Same specification: risk grade 3 — unstable, refer at once, follow up within 2 weeks.",
    ),
    Rule(
        "smi_unstable",
        HIGH,
        lambda f: f.get("source") == "smi_grade" and f.get("status") == "unstable",
        "smi_grade",
        "Same specification: marked psychotic symptoms, no insight, a serious adverse drug "
        "reaction or a serious physical illness make a patient unstable whatever the grade — "
        "refer at once.",
    ),
    Rule(
        "smi_grade_basically_stable",
        MODERATE,
        lambda f: f.get("source") == "smi_grade" and int(f.get("grade", 0)) in (1, 2),
        "smi_grade",
        "Same specification: risk grade 1–2 — basically stable, follow up at 2 weeks.",
    ),
)

RULES_BY_CODE = {rule.code: rule for rule in RULES}


@dataclass(frozen=True)
class Decision:
    level: int
    rules: tuple[str, ...]


def evaluate(facts: Mapping[str, Any]) -> Decision | None:
    """The level a signal's facts call for, and every rule that applied; None if no rule
    applies (the signal is kept, the level does not change)."""
    applied = tuple(rule.code for rule in RULES if rule.applies(facts))
    if not applied:
        return None
    return Decision(level=min(RULES_BY_CODE[c].level for c in applied), rules=applied)


def assessment_facts(
    *,
    instrument: str,
    critical: Mapping[int, int],
    flags: list[str],
    band_code: str,
    band_index: int,
    band_count: int,
    intervention: str,
) -> dict[str, Any]:
    """The facts of a completed assessment; ``critical`` maps each critical item to its
    answer."""
    return {
        "source": "assessment",
        "instrument": instrument,
        "reasons": [
            {"code": "critical_item", "item": item, "value": value}
            for item, value in critical.items()
        ],
        "flags": list(flags),
        "band": band_code,
        "band_index": band_index,
        "band_count": band_count,
        "intervention": intervention,
    }


def merged_level(current: int | None, signal_level: int) -> int:
    """A signal raises a person's level, never lowers it (issue #5 item 2)."""
    return signal_level if current is None else min(current, signal_level)
