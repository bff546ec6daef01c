"""The four priority levels (第一级 … 第四级人群) derived from target groups (pure: no Django).

Source: 《新型冠状病毒感染的肺炎疫情紧急心理危机干预指导原则》, 肺炎机制发〔2020〕8号,
2020-01-26, 二(一) 确定目标人群 (text in ../shared/CLINICAL.md):
  第一级: 确诊患者(住院治疗的重症及以上患者)、疫情防控一线医护人员、疾控人员和管理人员等。
  第二级: 居家隔离的轻症患者(密切接触者、疑似患者), 到医院就诊的发热患者。
  第三级: 与第一级、第二级人群有关的人, 如家属、同事、朋友; 参加疫情应对的后方救援者,
          如现场指挥、组织管理人员、志愿者等。
  第四级: 受疫情防控措施影响的疫区相关人群、易感人群、普通公众。
A person in several groups takes the highest level (the smallest number); intervention starts
from level 1, general education covers all four.

Where our target groups (MISSION.md R-REG) are not named in the guideline, the table says which
of its phrases we read them under. A person with no group is general public: level 4.
"""

from __future__ import annotations

from collections.abc import Iterable

GUIDELINE = "肺炎机制发〔2020〕8号 二(一)"

# group code → (level, the guideline's words it falls under)
LEVEL_RULES: dict[str, tuple[int, str]] = {
    "confirmed_patient": (1, "第一级: 确诊患者"),
    "frontline_medical": (1, "第一级: 疫情防控一线医护人员、疾控人员和管理人员"),
    "suspected_patient": (2, "第二级: 疑似患者"),
    "close_contact": (2, "第二级: 密切接触者 (居家隔离)"),
    # Discharged patients continue 14 days of isolation and observation after discharge
    # (国家卫健委《新型冠状病毒肺炎诊疗方案》出院后注意事项): read as 居家隔离的轻症患者.
    "cured_patient": (2, "第二级: 居家隔离的轻症患者 (出院后隔离观察)"),
    "family_of_patient": (3, "第三级: 与第一级、第二级人群有关的人, 如家属"),
    "family_of_deceased": (3, "第三级: 与第一级、第二级人群有关的人, 如家属"),
    "frontline_police_community": (
        3,
        "第三级: 参加疫情应对的后方救援者, 如现场指挥、组织管理人员、志愿者",
    ),
    "hardship": (4, "第四级: 受疫情防控措施影响的人群"),
    "child_in_difficulty": (4, "第四级: 受疫情防控措施影响的人群、易感人群"),
    "disability": (4, "第四级: 受疫情防控措施影响的人群、易感人群"),
    "women_special_period": (4, "第四级: 易感人群"),
    "student": (4, "第四级: 受疫情防控措施影响的人群"),
    "teacher": (4, "第四级: 受疫情防控措施影响的人群"),
    "special_population": (4, "第四级: 受疫情防控措施影响的人群"),
    "severe_mental_disorder": (4, "第四级: 易感人群"),
    "general_public": (4, "第四级: 普通公众"),
}

LOWEST = 4


def priority_level(groups: Iterable[str]) -> int:
    """The guideline level (1 = highest priority) for a person in ``groups``."""
    levels = [LEVEL_RULES[g][0] for g in groups]
    return min(levels, default=LOWEST)
