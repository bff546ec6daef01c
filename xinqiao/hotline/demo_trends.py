"""Demo history for the trend pages (generated data): 120 days of calls to the demo hotline
centre from the demo streets, with a weekly rhythm, and a planted rise of one category
(financial hardship) in one street (南岸街道) over the last 3 days, so that the early-warning
run finds it and the demo shows an emerging-issue report. Notes are generated, harmless
sentences with no names, numbers or addresses."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from xinqiao.accounts.models import User
from xinqiao.hotline import early_warning
from xinqiao.hotline.models import Call, CallerType, CallProblem, CallReferral, TextRisk
from xinqiao.hotline.trends import zone
from xinqiao.orgs.models import Unit, UnitKind

DAYS = 120
PLANTED_STREET = "南岸街道"
PLANTED_CATEGORY = "financial_hardship"
PLANTED_DAYS = 3
PREFIX = "DT"  # references of the generated history (its calls only)
PLANTED_EXTRA = 7  # calls a day above the usual, in the planted street and category

_CATEGORIES = [
    ("negative_emotion", 30),
    ("body", 14),
    ("isolation_stress", 14),
    ("fear_of_infection", 10),
    ("family_conflict", 8),
    ("cognition", 6),
    ("return", 6),
    ("financial_hardship", 5),
    ("interpersonal", 4),
    ("bereavement", 3),
]
_GROUPS = ["", "general_public", "close_contact", "family_of_patient", "student", "hardship"]
_NOTES = {
    "negative_emotion": "来电者说最近心情低落，睡前容易紧张，已倾听并介绍放松方法。",
    "body": "来电者反映失眠、胸闷，已建议规律作息，必要时到医院检查。",
    "isolation_stress": "居家隔离第十天，感到烦躁，已给予情绪支持和作息建议。",
    "fear_of_infection": "担心被感染，反复测体温，已讲解防护知识。",
    "family_conflict": "隔离期间与家人争吵增多，已讨论沟通方法。",
    "cognition": "反复查看疫情消息，难以集中注意力，已建议减少信息摄入。",
    "return": "担心复工后的安全，已介绍单位防护安排的问法。",
    "financial_hardship": "停工后收入减少，担心房租和生活费，已介绍街道救助渠道。",
    "interpersonal": "与邻居发生矛盾，情绪激动，已帮助梳理解决办法。",
    "bereavement": "亲人去世后难以接受，已陪伴倾听，约定回访。",
}
# Relative call volume by weekday (Monday first): more calls early in the week.
_WEEKDAY = [1.2, 1.1, 1.0, 1.0, 0.9, 0.8, 0.8]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _w in weighted], weights=[w for _c, w in weighted])[0]


def populate(today: date) -> int:
    """Write the history (once: nothing if it is there already) and run the early warning
    for the planted days. Returns the calls written."""
    rng = random.Random(7)  # noqa: S311 -- reproducible demo data, not security
    centre = (
        Unit.objects.filter(kind=UnitKind.HOTLINE_CENTRE, is_active=True).order_by("path").first()
    )
    operator = User.objects.filter(username="hotline1").first()
    if centre is None or operator is None:
        return 0
    streets = list(
        Unit.objects.filter(
            kind=UnitKind.STREET,
            is_active=True,
            path__startswith="/" + centre.path.split("/")[1] + "/",
        ).order_by("name")
    )
    if not streets:
        return 0
    tz = zone()
    first = today - timedelta(days=DAYS)
    if Call.objects.filter(centre=centre, reference__startswith=PREFIX).exists():
        return 0  # already written
    calls: list[Call] = []
    problems: list[tuple[int, str]] = []
    n = 0
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        for street in streets:
            mean = 2.2 * _WEEKDAY[day.weekday()]
            count = sum(1 for _ in range(8) if rng.random() < mean / 8)
            planted = street.name == PLANTED_STREET and day >= today - timedelta(days=PLANTED_DAYS)
            extra = PLANTED_EXTRA if planted else 0
            for k in range(count + extra):
                category = PLANTED_CATEGORY if k >= count else _pick(rng, _CATEGORIES)
                hour = rng.choices(range(24), weights=[1] * 7 + [4] * 12 + [3] * 4 + [1])[0]
                started = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=tz)
                risk = rng.choices(
                    [TextRisk.NONE, TextRisk.LOW, TextRisk.MEDIUM], weights=[70, 25, 5]
                )[0]
                n += 1
                calls.append(
                    Call(
                        reference=f"{PREFIX}{day:%y%m%d}{n:05d}",
                        centre=centre,
                        operator=operator,
                        started_at=started,
                        ended_at=started + timedelta(minutes=rng.randrange(4, 35)),
                        caller_type=rng.choice([CallerType.SELF] * 4 + [CallerType.FAMILY]),
                        caller_group=rng.choice(_GROUPS),
                        area=street,
                        risk=risk,
                        interventions=["support"]
                        if risk != TextRisk.MEDIUM
                        else ["support", "safety_plan"],
                        referral=CallReferral.COMMUNITY
                        if risk == TextRisk.MEDIUM
                        else CallReferral.NONE,
                        notes=_NOTES[category],
                    )
                )
                problems.append((len(calls) - 1, category))
    Call.objects.bulk_create(calls, batch_size=500)
    CallProblem.objects.bulk_create(
        [CallProblem(call=calls[i], group=g, code=g) for i, g in problems], batch_size=1000
    )
    # The daily run for each planted day, as the worker would have done.
    for k in range(PLANTED_DAYS - 1, -1, -1):
        early_warning.run(today - timedelta(days=k))
    return len(calls)
