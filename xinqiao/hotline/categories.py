"""The two-level taxonomy of problems raised on the hotline and in the mailbox (R-HOTLINE).

First level: the six categories seed 002 篇2 四(一) sorts hotline and online-consultation
problems into (认知困惑, 负性情绪, 行为异常, 身体不适, 人际冲突, 出现疑似症, each with the
examples the seed gives as the second level), then the epidemic-specific ones issue #7 names
(isolation stress, bereavement, fear of infection, return to work or school, family conflict,
domestic violence, financial hardship), a crisis category and "other".

A code is ``group`` or ``group.sub``; calls count by ``group``. The order here is the order of
the call form and of the reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Category:
    code: str
    label: str | Promise
    subs: tuple[tuple[str, str | Promise], ...] = ()


TAXONOMY: tuple[Category, ...] = (
    # Seed 002 篇2 四(一)1 认知困惑
    Category(
        "cognition",
        _("Cognitive confusion"),
        (
            ("attention", _("Cannot concentrate")),
            ("news", _("Overexposure to epidemic news")),
            ("rumination", _("Keeps going over the epidemic")),
            ("body_watching", _("Over-attentive to bodily changes")),
        ),
    ),
    # 四(一)2 负性情绪
    Category(
        "negative_emotion",
        _("Negative emotion"),
        (
            ("anxiety", _("Tension, anxiety")),
            ("fear", _("Fear")),
            ("low_mood", _("Low mood, depression")),
            ("irritability", _("Irritability, anger")),
            ("loneliness", _("Loneliness")),
            ("sadness", _("Sadness")),
            ("guilt", _("Guilt, self-blame")),
            ("confusion", _("Feeling lost")),
        ),
    ),
    # 四(一)3 行为异常
    Category(
        "behaviour",
        _("Abnormal behaviour"),
        (
            ("compulsive", _("Repeated disinfecting, hand-washing, temperature-taking")),
            ("avoidance", _("Dares not go out or open windows")),
            ("impulsive", _("Impulsive, hasty")),
            ("substance", _("Excessive smoking or drinking")),
        ),
    ),
    # 四(一)4 身体不适
    Category(
        "body",
        _("Bodily discomfort"),
        (
            ("sleep", _("Insomnia, many dreams")),
            ("heart", _("Chest tightness, palpitations, shortness of breath")),
            ("appetite", _("Loss of appetite, stomach trouble")),
            ("muscles", _("Muscle tension or weakness")),
        ),
    ),
    # 四(一)5 人际冲突
    Category("interpersonal", _("Interpersonal conflict")),
    # 四(一)6 出现疑似症
    Category("suspected_illness", _("Believes they are ill (suspected symptoms)")),
    # Epidemic-specific categories (issue #7 item 2).
    Category("isolation_stress", _("Stress of isolation or quarantine")),
    Category("bereavement", _("Bereavement")),
    Category("fear_of_infection", _("Fear of infection")),
    Category("return", _("Returning to work or school")),
    Category("family_conflict", _("Family conflict")),
    Category("domestic_violence", _("Domestic violence")),
    Category("financial_hardship", _("Financial hardship")),
    Category("crisis", _("Suicidal thoughts or crisis")),
    Category("other", _("Other")),
)

GROUPS: dict[str, Category] = {category.code: category for category in TAXONOMY}


def codes() -> list[str]:
    """Every valid code: each group, and each ``group.sub``."""
    result: list[str] = []
    for category in TAXONOMY:
        result.append(category.code)
        result.extend(f"{category.code}.{sub}" for sub, _label in category.subs)
    return result


VALID_CODES: frozenset[str] = frozenset(codes())


def group_of(code: str) -> str:
    return code.split(".", 1)[0]


def label_of(code: str) -> str:
    """'Negative emotion › Fear' for ``negative_emotion.fear``; the code itself if unknown."""
    group, _dot, sub = code.partition(".")
    category = GROUPS.get(group)
    if category is None:
        return code
    if not sub:
        return str(category.label)
    for sub_code, label in category.subs:
        if sub_code == sub:
            return f"{category.label} › {label}"
    return str(category.label)
