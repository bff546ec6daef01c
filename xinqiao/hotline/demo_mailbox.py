"""Demo worry-mailbox and online-consultation messages (generated data): twenty messages to
the demo communities, the hotline centre, the school, the service station and the isolation
site over the last two weeks, in the epidemic's ordinary worries; one reads as medium risk and
one as high (it raises a crisis alert on an unnamed file, as a real one would); about half are
answered, a few closed. No names; contacts are obviously generated."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from xinqiao.hotline import mailbox_actions as actions
from xinqiao.hotline.models import AgeBand, MailboxMessage, MailboxReply, MessageKind
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import Action, role_allows

# (kind, group, subject, text); the first reads as high risk and the second as medium in
# xinqiao.hotline.triage, the rest as low or none.
MESSAGES: list[tuple[str, str, str, str]] = [
    ("mailbox", "", "", "这几天我一直在想，活着太累了，我已经写好了遗书，打算这周末结束自己。"),
    ("consultation", "", "情绪", "以前有过不想活的念头，现在好一点了，但还是常常觉得很绝望。"),
    (
        "mailbox",
        "close_contact",
        "隔离",
        "隔离在家快两周了，每天都担心家里老人的身体，晚上总是睡不着。",
    ),
    (
        "consultation",
        "",
        "返校",
        "孩子下周要返校了，我很担心他在学校会不会被感染，心里一直不踏实。",
    ),
    ("mailbox", "", "复工", "复工以后工作量一下子多了很多，每天都很焦虑，不知道怎么调整。"),
    (
        "mailbox",
        "family_of_deceased",
        "",
        "我妈妈上个月去世了，因为疫情没能见最后一面，心里一直很难过。",
    ),
    ("consultation", "", "家庭", "最近和爱人经常因为小事吵架，家里气氛很紧张，想请教怎么沟通。"),
    ("mailbox", "", "", "网上的消息太多了，我每天刷到半夜，越看越害怕，停不下来。"),
    ("consultation", "", "身体", "总觉得自己喉咙不舒服，已经测了好几次都是阴性，还是放心不下。"),
    ("mailbox", "frontline_medical", "", "我是一线护士，连续上了很多夜班，感觉整个人都被掏空了。"),
    (
        "consultation",
        "hardship",
        "经济",
        "店里关门三个月了，房租还要交，压力很大，不知道该怎么办。",
    ),
    (
        "mailbox",
        "close_contact",
        "",
        "我在集中隔离点，一个人待在房间里，觉得很孤单，想找人说说话。",
    ),
    ("consultation", "student", "学习", "高三了，网课效率很低，成绩下滑，爸妈一说我就烦。"),
    (
        "mailbox",
        "cured_patient",
        "",
        "父亲康复出院后总是不愿意出门，怕被邻居议论，我们该怎么帮他？",
    ),
    ("consultation", "", "", "最近注意力很难集中，看书看不进去，是不是心理出了问题？"),
    ("mailbox", "", "", "失业两个月了，每天在家不想动，吃饭也没胃口。"),
    ("mailbox", "", "邻里", "邻居家孩子一直哭闹，我听着心烦，但又不好意思去说。"),
    ("consultation", "", "咨询", "我想了解一下社区有没有线下的心理咨询，需要预约吗？"),
    ("mailbox", "hardship", "", "老伴住院了，我一个人在家，晚上总是胡思乱想。"),
    ("consultation", "", "朋友", "朋友说他最近压力很大，我不知道怎么安慰他才好。"),
]

ANSWERS = [
    "谢谢你写信来，你的担心是很多人此刻都有的。可以先试着把每天的作息固定下来，"
    "睡前一小时放下手机。如果一周后还是很难受，欢迎预约社区的心理咨询。",
    "读到你的来信，能感到你这段时间很辛苦。先照顾好自己的睡眠和饮食，"
    "也可以和信任的人说说。需要时随时拨打心理援助热线。",
    "你愿意说出来就是很好的一步。我们整理了一些放松练习，可以每天做十分钟；"
    "社区心理服务站每周三下午也有咨询师在，可以来聊聊。",
]

CATEGORIES = [
    "isolation_stress",
    "negative_emotion",
    "return",
    "bereavement",
    "family_conflict",
    "cognition",
    "body",
    "financial_hardship",
]


def _answerer(unit: Unit) -> object | None:
    for membership in (
        Membership.objects.filter(user__is_active=True, unit__is_active=True)
        .select_related("user", "unit")
        .order_by("user__username")
    ):
        if unit.path.startswith(membership.unit.path) and role_allows(
            membership.role, Action.MAILBOX_ANSWER
        ):
            return membership.user
    return None


def populate(today: date) -> None:
    rng = random.Random(7)  # noqa: S311 -- reproducible demo data, not security
    zone = ZoneInfo(settings.TIME_ZONE)
    city = (
        Unit.objects.filter(kind=UnitKind.CITY, is_active=True)
        .order_by("created_at", "path")
        .first()
    )
    if city is None:
        return
    inside = Unit.objects.filter(is_active=True, path__startswith=city.path).order_by("path")
    units = list(inside.filter(kind=UnitKind.COMMUNITY)[:6])
    for unit_kind in (UnitKind.HOTLINE_CENTRE, UnitKind.SCHOOL, UnitKind.SERVICE_STATION):
        units.extend(inside.filter(kind=unit_kind)[:1])
    isolation = inside.filter(kind=UnitKind.ISOLATION_SITE).first()
    if not units:
        return
    streets = actions.streets_for(city)
    bands = [b for b in AgeBand.values if b != AgeBand.UNKNOWN]
    for n, (kind, group, subject, text) in enumerate(MESSAGES):
        unit = isolation if (n == 11 and isolation) else units[n % len(units)]
        contact = (
            actions.Contact(phone=f"170000000{n:02d}")
            if n % 4 == 1
            else actions.Contact(wechat=f"demo_writer_{n:02d}")
            if n % 7 == 3
            else None
        )
        message, _code = actions.submit(
            unit=unit,
            kind=kind if kind in MessageKind.values else MessageKind.MAILBOX,
            subject=subject,
            body=text,
            contact=contact,
            age_band=rng.choice(bands) if n % 3 else AgeBand.UNKNOWN,
            writer_group=group,
            area=streets[n % len(streets)] if streets and n % 2 == 0 else None,
        )
        # Spread over the last two weeks, the two flagged ones the most recent.
        days_ago = 0 if n < 2 else 1 + (n * 5) % 14
        written = datetime.combine(
            today - timedelta(days=days_ago), time(8 + (n * 3) % 14, (n * 17) % 60), tzinfo=zone
        )
        written = min(written, timezone.now())
        MailboxMessage.objects.filter(pk=message.pk).update(
            created_at=written, last_writer_at=written
        )
        message.refresh_from_db()
        counsellor = _answerer(unit)
        if counsellor is None or n < 2:
            continue  # the flagged ones wait, first in the queue, for a person to read
        if n % 5 == 4:
            actions.claim(acting_user=counsellor, message=message)
            continue
        if n % 2 == 1 or n % 3 == 0:
            actions.set_category(
                acting_user=counsellor, message=message, category=CATEGORIES[n % len(CATEGORIES)]
            )
            reply = actions.answer(
                acting_user=counsellor, message=message, body=ANSWERS[n % len(ANSWERS)]
            )
            answered = min(written + timedelta(days=1, hours=2), timezone.now())
            MailboxReply.objects.filter(pk=reply.pk).update(created_at=answered)
            MailboxMessage.objects.filter(pk=message.pk).update(answered_at=answered)
            if n % 6 == 3:
                message.refresh_from_db()
                actions.close(acting_user=counsellor, message=message)
