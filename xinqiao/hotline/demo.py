"""Demo data of the hotline's roster and calls (generated, no real person): four seats at the
demo hotline centre (seed 002 篇6 三(五)2: 4 seats), the training of hotline1 and hotline2, a
week of 12-hour shifts with one deliberate gap in 24-hour cover (so the roster's warning has
something to show), and about 60 calls over the last six weeks, some naming the caller's
street (for the trends), two of them at risk (one high: a crisis alert on an unnamed file)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from xinqiao.accounts.models import User
from xinqiao.hotline import actions, crisis
from xinqiao.hotline.models import Call, CallProblem, HotlineTraining, Seat, Shift
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import Role
from xinqiao.risk.models import SignalSource

SEATS = ["坐席 1", "坐席 2", "坐席 3", "坐席 4"]
COURSE = "新冠肺炎疫情应对心理援助培训"

# (problem codes, caller group, notes): generated examples, no real person.
CALLS: list[tuple[list[str], str, str]] = [
    (
        ["isolation_stress", "body.sleep"],
        "close_contact",
        "居家隔离第九天，夜里睡不着，担心检测结果。给予倾听和放松训练指导。",
    ),
    (
        ["fear_of_infection", "cognition.news"],
        "",
        "反复看疫情新闻，总觉得自己被感染了。讲解防护知识，建议减少刷新闻。",
    ),
    (
        ["negative_emotion.anxiety"],
        "student",
        "网课压力大，担心成绩，心慌。情绪支持，讨论作息安排。",
    ),
    (["family_conflict"], "", "隔离期间和家人因琐事争吵频繁，情绪烦躁。倾听，讨论沟通方法。"),
    (
        ["bereavement", "negative_emotion.sadness"],
        "family_of_deceased",
        "亲人因病去世，未能告别，自责。哀伤支持，告知后续可预约咨询。",
    ),
    (["return"], "", "即将复工，担心通勤路上被感染。提供防护信息，稳定情绪。"),
    (
        ["financial_hardship", "negative_emotion.low_mood"],
        "hardship",
        "店铺停业两个月，收入中断，情绪低落。情绪支持，告知社区救助渠道。",
    ),
    (
        ["body.heart", "suspected_illness"],
        "",
        "胸闷心慌，怀疑自己得病，已做检查无异常。解释焦虑的躯体反应。",
    ),
    (["behaviour.compulsive"], "", "每天反复消毒、洗手几十次，停不下来。心理教育，建议门诊评估。"),
    (
        ["negative_emotion.loneliness"],
        "hardship",
        "独居老人，子女不在身边，感到孤单。陪伴式倾听，联系社区关注。",
    ),
    (
        ["interpersonal"],
        "frontline_medical",
        "一线医护，与同事关系紧张，疲惫。情绪支持，介绍减压方法。",
    ),
    (
        ["domestic_violence"],
        "women_special_period",
        "来电者称隔离期间受到家人推搡，目前安全。告知求助渠道和报警方式。",
    ),
]
HIGH_NOTES = (
    "来电者称最近反复想到结束生命，已经想好了方法，情绪激动。进行危机干预，已联系家属陪伴。"
)
MEDIUM_NOTES = "来电者说有时觉得活着没意思，想过怎么做，但称不会去做。讨论安全计划，约定明天回访。"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=actions.tz())


def populate(today: date) -> None:
    rng = random.Random(11)  # noqa: S311 -- reproducible demo data, not security
    centre = (
        Unit.objects.filter(kind=UnitKind.HOTLINE_CENTRE, is_active=True).order_by("path").first()
    )
    if centre is None or Seat.objects.filter(centre=centre).exists():
        return
    admin = (
        Membership.objects.filter(role=Role.CITY_ADMIN, unit__path__in=centre.ancestor_paths())
        .select_related("user")
        .first()
    )
    operators = list(
        User.objects.filter(username__in=["hotline1", "hotline2"]).order_by("username")
    )
    if admin is None or len(operators) < 2:
        return
    manager = admin.user
    seats = [actions.add_seat(acting_user=manager, centre=centre, name=n) for n in SEATS]
    for operator in operators:
        actions.record_training(
            acting_user=manager,
            centre=centre,
            operator=operator,
            course=COURSE,
            completed_on=today - timedelta(days=60),
            valid_until=today + timedelta(days=305),
        )
    # A week of day (08–20) and night (20–08) shifts on the first seat, and day shifts on the
    # second; on the fifth night the night shift ends at 02:00: a gap from 02:00 to 08:00.
    actions.add_shift(
        acting_user=manager,
        seat=seats[0],
        operator=operators[1],
        starts_at=_at(today, 0),
        ends_at=_at(today, 8),
    )
    for n in range(8):
        day = today + timedelta(days=n)
        night_end = _at(day + timedelta(days=1), 2) if n == 4 else _at(day + timedelta(days=1), 8)
        for seat, operator, start, end in (
            (seats[0], operators[n % 2], _at(day, 8), _at(day, 20)),
            (seats[0], operators[(n + 1) % 2], _at(day, 20), night_end),
        ):
            actions.add_shift(
                acting_user=manager, seat=seat, operator=operator, starts_at=start, ends_at=end
            )
    streets = list(
        Unit.objects.filter(
            kind=UnitKind.STREET, is_active=True, path__startswith=centre.ancestor_paths()[0]
        ).order_by("path")
    )
    with transaction.atomic():
        for n in range(58):
            day = today - timedelta(days=rng.randint(1, 42))
            hour = rng.choice([9, 10, 11, 14, 15, 16, 19, 20, 21, 22, 23, 1])
            problems, group, notes = rng.choice(CALLS)
            _store(
                centre=centre,
                operator=operators[n % 2],
                start=_at(day, hour, rng.randint(0, 59)),
                minutes=rng.randint(6, 35),
                problems=problems,
                group=group,
                notes=notes,
                area=rng.choice(streets) if streets and rng.random() < 0.6 else None,
                caller_type=rng.choice(["self", "self", "self", "family", "friend", "anonymous"]),
                sex=rng.choice(["female", "male", "unknown"]),
                age=rng.choice(["18_24", "25_34", "35_44", "45_59", "60_plus", "12_17"]),
                risk="none" if rng.random() < 0.7 else "low",
                interventions=rng.sample(["support", "information", "stabilisation"], 2),
            )
        yesterday = today - timedelta(days=1)
        _store(
            centre=centre,
            operator=operators[0],
            start=_at(yesterday, 22, 40),
            minutes=28,
            problems=["crisis", "negative_emotion.low_mood"],
            group="",
            notes=MEDIUM_NOTES,
            area=streets[0] if streets else None,
            caller_type="self",
            sex="female",
            age="18_24",
            risk="medium",
            interventions=["support", "safety_plan"],
            answers={"risk_wish_dead": True, "risk_ideation": True, "risk_method": True},
            callback=_at(today, 10),
        )
        _store(
            centre=centre,
            operator=operators[1],
            start=_at(yesterday, 23, 50),
            minutes=41,
            problems=["crisis"],
            group="",
            notes=HIGH_NOTES,
            area=streets[-1] if streets else None,
            caller_type="anonymous",
            sex="male",
            age="35_44",
            risk="high",
            interventions=["support", "crisis", "safety_plan"],
            answers={"risk_ideation": True, "risk_method": True, "risk_intent": True},
        )


def _store(
    *,
    centre: Unit,
    operator: User,
    start: datetime,
    minutes: int,
    problems: list[str],
    group: str,
    notes: str,
    area: Unit | None,
    caller_type: str,
    sex: str,
    age: str,
    risk: str,
    interventions: list[str],
    answers: dict[str, bool] | None = None,
    callback: datetime | None = None,
) -> Call:
    """One past call, stored as ``actions.log_call`` would (which only takes calls of the last
    24 hours), with its signal when at risk."""
    shift = Shift.objects.filter(
        seat__centre=centre, operator=operator, starts_at__lte=start, ends_at__gt=start
    ).first()
    call = Call.objects.create(
        reference=actions.new_reference(),
        centre=centre,
        seat=shift.seat if shift else None,
        operator=operator,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        caller_type=caller_type,
        caller_sex=sex,
        age_band=age,
        caller_group=group,
        area=area,
        risk=risk,
        text_risk=actions.text_risk_of(notes),
        interventions=interventions,
        callback_at=callback,
        notes=notes,
        **(answers or {}),
    )
    CallProblem.objects.bulk_create(
        [CallProblem(call=call, group=code.split(".")[0], code=code) for code in problems]
    )
    if risk in ("medium", "high"):
        _signal, person, alert = crisis.raise_contact_signal(
            obj=call,
            unit=centre,
            person=None,
            source=SignalSource.HOTLINE_CALL,
            facts={"call_risk": risk, "text_risk": call.text_risk},
            actor=operator,
            unnamed_label=_("Anonymous caller %(ref)s") % {"ref": call.reference},
            sex=sex,
        )
        call.person, call.alert = person, alert
        call.save(update_fields=["person", "alert"])
    return call


__all__ = ["HotlineTraining", "populate"]
