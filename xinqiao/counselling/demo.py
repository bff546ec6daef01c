"""Demo counselling (generated data): a few individual sessions with case records, one
family session and a group programme in the first community that has a counsellor."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from xinqiao.counselling.actions import create_programme, record_session
from xinqiao.orgs.models import Membership, UnitKind
from xinqiao.orgs.permissions import Role
from xinqiao.people.access import has_consent
from xinqiao.people.actions import give_consent
from xinqiao.people.models import ConsentPurpose, FileStatus, Person


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(settings.TIME_ZONE))


def populate(today: date) -> None:
    memberships = (
        Membership.objects.filter(role=Role.COUNSELLOR, unit__kind=UnitKind.COMMUNITY)
        .select_related("user", "unit")
        .order_by("unit__name", "user__username")
    )
    for membership in memberships:
        counsellor, community = membership.user, membership.unit
        people = list(
            Person.objects.filter(unit__path__startswith=community.path, status=FileStatus.ACTIVE)
            .select_related("unit")
            .order_by("name")[:5]
        )
        if len(people) >= 3:
            break
    else:
        return
    for person in people:
        if not has_consent(person, ConsentPurpose.COUNSELLING):
            give_consent(
                acting_user=counsellor,
                person=person,
                purpose=ConsentPurpose.COUNSELLING,
                given_by="self",
                method="signed_paper",
                given_on=today - timedelta(days=70),
            )
    for n, person in enumerate(people[:3]):
        record_session(
            acting_user=counsellor,
            kind="individual",
            format="offline" if n % 2 == 0 else "online",
            held_at=_at(today - timedelta(days=50 - 10 * n), 10),
            participants=[
                {
                    "person": person,
                    "basic_situation": "（演示）近一月睡眠差，情绪低落。",
                    "self_evaluation": "（演示）觉得压力大。",
                    "life_events": "（演示）工作变动。",
                    "advice": "（演示）规律作息，两周后复谈。",
                }
            ],
            techniques=["supportive_listening", "psychoeducation"],
            toolkit=["handbook"],
            plan="（演示）每两周一次，共四次。",
        )
    record_session(
        acting_user=counsellor,
        kind="family",
        format="offline",
        held_at=_at(today - timedelta(days=20), 15),
        participants=[{"person": people[0]}, {"person": people[1], "role": "family_member"}],
        techniques=["family_work"],
    )
    programme = create_programme(
        acting_user=counsellor,
        unit=community,
        name="（演示）睡眠与情绪团体",
        kind="group",
        starts_on=today - timedelta(days=42),
        ends_on=today,
    )
    for week in range(3):
        record_session(
            acting_user=counsellor,
            kind="group",
            format="offline",
            held_at=_at(today - timedelta(days=40 - 14 * week), 14),
            title="（演示）睡眠与情绪团体",
            participants=[{"person": p} for p in people],
            techniques=["relaxation", "mindfulness"],
            toolkit=["leaflet"],
            programme=programme,
        )
