"""``docs/risk.md``, rendered from the rule table and the response matrix (pure)."""

from __future__ import annotations

from xinqiao.risk import response, rules

LEVEL_NAMES = {1: "crisis", 2: "high", 3: "moderate", 4: "general"}
ACTION_TEXT = {
    "one_to_one_and_hospital": "one-to-one intervention now; assess for admission to the "
    "designated hospital; report to the street office",
    "one_to_one": "one-to-one intervention within a day; assess suicide and self-harm risk",
    "counsellor_contact": "a counsellor contacts the person within three days",
    "routine_follow_up": "routine follow-up and mental-health education",
}


def render_markdown() -> str:
    lines = [
        "# Risk levels, the four-level response and crisis alerts",
        "",
        "Generated from `xinqiao/risk/rules.py` and `xinqiao/risk/response.py` by",
        "`xinqiao risk_doc`; do not edit by hand (CI fails when this file and the code differ).",
        "",
        "## How a signal becomes an alert",
        "",
        "1. A **risk signal** comes from an assessment (a critical item, a severe band), a",
        "   worker's report of a concern, a hotline call or mailbox message flagged at risk, a",
        "   call-back request left on the portal (its note, or the self-assessment before it), a",
        "   hospital discharge notice or a severe-mental-disorder risk grade. It is stored with",
        "   its source and the facts the rules read (`risk.RiskSignal`).",
        "2. The **rule table** below gives it a level: the most urgent of the rules it meets.",
        "3. The person's **risk level** rises to it at once (`risk.PersonRisk`, with its history",
        "   in `risk.RiskLevelChange`). A newer, milder result never lowers it: only a counsellor",
        "   or psychiatrist does, with a recorded reason.",
        "4. At a level that raises alerts, a **crisis alert** opens in the same transaction (or",
        "   the person's active alert takes the signal and, if more urgent, its level). Its",
        "   notifications and its escalation are jobs kept in the database in that transaction",
        "   (`xinqiao/ops/jobs.py`), so none is lost.",
        "5. Nobody acknowledges it by its deadline → it **escalates** to the next level of the",
        "   tree (street → district → city, then the city again), with a new deadline, until",
        "   someone does. Lifecycle: open → acknowledged → in intervention → resolved /",
        "   referred (→ resolved). Every step is timestamped (`risk.AlertEvent`).",
        "",
        "Levels (smaller is more urgent): 1 crisis — imminent risk of suicide, self-harm or",
        "violence; 2 high; 3 moderate; 4 general.",
        "",
        "## The rule table",
        "",
        "| rule | signal | level | source |",
        "| --- | --- | --- | --- |",
    ]
    for rule in rules.RULES:
        name = f"{rule.level} {LEVEL_NAMES[rule.level]}"
        lines.append(f"| `{rule.code}` | {rule.source} | {name} | {rule.citation} |")
    lines += [
        "",
        "Reports of a concern: the checklist and the level each item calls for:",
        "",
        "| behaviour | level |",
        "| --- | --- |",
    ]
    for behaviour, behaviour_level in rules.CONCERN_BEHAVIOURS.items():
        lines.append(f"| `{behaviour}` | {behaviour_level} {LEVEL_NAMES[behaviour_level]} |")
    lines += [
        "",
        "## The response matrix (四级响应) — defaults",
        "",
        "A city changes any row on its response page (`/risk/response/`, city administrators);",
        "the follow-up interval is never longer than 180 days (seed 000 二(五)).",
        "",
        "| level | alert | acknowledge within | also told | required action | follow up every |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for matrix_level, row in response.DEFAULT_MATRIX.items():
        told = ["the counsellors of the person's community"] if row.alert else []
        if row.notify_team:
            told.append("the community team")
        if row.notify_street:
            told.append("the street office (报告街道)")
        minutes = row.ack_minutes
        deadline = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
        lines.append(
            f"| {matrix_level} {LEVEL_NAMES[matrix_level]} | {'yes' if row.alert else 'no'} | "
            f"{deadline if row.alert else '—'} | {', '.join(told) or '—'} | "
            f"{ACTION_TEXT[row.action]} | {row.followup_days} days |"
        )
    lines += [
        "",
        "Sources of the matrix: seed 003 (四级响应处置机制); seed 000 二(六) (one-to-one",
        "intervention; the designated hospital for obvious suicide or self-harm risk; the",
        "key-person list under grid management); R-CRISIS (报告街道); seed 000 二(五) (follow-up",
        "at least every six months). The acknowledgement deadlines are Xinqiao's defaults.",
        "",
    ]
    return "\n".join(lines)
