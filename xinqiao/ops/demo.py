"""The demo city: a deterministic, entirely generated small city for the embedded run and tests.

Every name here is generated; nothing resembles a real person. The demo refuses to load in
production mode (DESIGN.md "Embedded demo").
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from xinqiao.accounts.models import User
from xinqiao.orgs.models import (
    ConfidentialityAgreement,
    Membership,
    Profession,
    Qualification,
    StaffProfile,
    Team,
    TeamKind,
    TeamMember,
    Unit,
    UnitKind,
)
from xinqiao.orgs.permissions import Role

DEMO_PASSWORD = "xinqiao-demo"  # noqa: S105 -- printed to the operator; refused in production
DEFAULT_SEED = 20200126  # the guideline's date (肺炎机制发〔2020〕8号), for want of a better one

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉宇浩凯健俊帆帅旭宁婷"
    "雪琳晨阳佳欣怡悦涵梓轩博文子瑞思远志海波亮"
)

STREETS = [("东湖区", ["东湖街道", "南岸街道"]), ("西山区", ["西山街道", "北岭镇"])]
COMMUNITIES = [
    "春晖社区",
    "杏林社区",
    "滨江社区",
    "望湖社区",
    "松涛社区",
    "枫林社区",
    "青石村",
    "白沙村",
]


@dataclass
class DemoCity:
    city: Unit
    districts: list[Unit] = field(default_factory=list)
    streets: list[Unit] = field(default_factory=list)
    communities: list[Unit] = field(default_factory=list)
    grids: dict[int, list[Unit]] = field(default_factory=dict)
    hospital: Unit | None = None
    psychiatric: Unit | None = None
    hotline: Unit | None = None
    school: Unit | None = None
    station: Unit | None = None
    civil_affairs: Unit | None = None
    isolation_site: Unit | None = None
    users: dict[str, User] = field(default_factory=dict)


def _unit(kind: str, name: str, parent: Unit | None) -> Unit:
    unit = Unit(kind=kind, name=name, parent=parent)
    unit.path = f"{parent.path if parent else '/'}{unit.id.hex}/"
    unit.depth = parent.depth + 1 if parent else 0
    unit.save()
    return unit


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def next(self) -> str:
        while True:
            name = self.rng.choice(_SURNAMES) + "".join(
                self.rng.choice(_GIVEN) for _ in range(self.rng.choice([1, 2]))
            )
            if name not in self.used:
                self.used.add(name)
                return name


@transaction.atomic
def build_demo_city(
    *, seed: int = DEFAULT_SEED, password: str = DEMO_PASSWORD, people_per_community: int = 0
) -> DemoCity:
    """Create the demo city. Deterministic for a given seed (unit and user names, roles, and
    the generated person files when ``people_per_community`` is set)."""
    if settings.PRODUCTION:
        raise ImproperlyConfigured("demo data is refused in production mode")
    rng = random.Random(seed)  # noqa: S311 -- reproducible demo names, not security
    names = _Names(rng)
    password_hash = make_password(password)  # one hash for all demo accounts: same password

    demo = DemoCity(city=_unit(UnitKind.CITY, "心桥市", None))
    n = 0
    for district_name, street_names in STREETS:
        district = _unit(UnitKind.DISTRICT, district_name, demo.city)
        demo.districts.append(district)
        for street_name in street_names:
            street = _unit(UnitKind.STREET, street_name, district)
            demo.streets.append(street)
            for _ in range(2):
                community = _unit(UnitKind.COMMUNITY, COMMUNITIES[n], street)
                demo.communities.append(community)
                demo.grids[n + 1] = [
                    _unit(UnitKind.GRID, f"第{g}网格", community) for g in ("一", "二")
                ]
                n += 1
    demo.hospital = _unit(UnitKind.DESIGNATED_HOSPITAL, "心桥市第一人民医院", demo.city)
    demo.psychiatric = _unit(UnitKind.PSYCHIATRIC_INSTITUTION, "心桥市精神卫生中心", demo.city)
    demo.hotline = _unit(UnitKind.HOTLINE_CENTRE, "心桥市心理援助热线中心", demo.city)
    demo.school = _unit(UnitKind.SCHOOL, "东湖区第一中学", demo.districts[0])
    demo.station = _unit(UnitKind.SERVICE_STATION, "东湖街道心灵驿站", demo.streets[0])
    demo.civil_affairs = _unit(UnitKind.CIVIL_AFFAIRS, "东湖区民政局", demo.districts[0])
    demo.isolation_site = _unit(UnitKind.ISOLATION_SITE, "东湖区集中隔离点", demo.districts[0])

    def staff(
        username: str,
        role: Role,
        unit: Unit,
        profession: str,
        qualification: str = Qualification.NONE,
    ) -> User:
        user = User.objects.create(username=username, name=names.next(), password=password_hash)
        Membership.objects.create(user=user, unit=unit, role=role)
        StaffProfile.objects.create(
            user=user,
            profession=profession,
            qualification=qualification,
            qualification_number=f"DEMO-{rng.randrange(10**6, 10**7)}"
            if qualification != Qualification.NONE
            else "",
        )
        demo.users[username] = user
        return user

    staff("sysadmin", Role.SYSTEM_ADMIN, demo.city, Profession.CIVIL_SERVANT)
    staff("city_admin", Role.CITY_ADMIN, demo.city, Profession.CIVIL_SERVANT)
    staff("auditor", Role.AUDITOR, demo.city, Profession.CIVIL_SERVANT)
    for i, district in enumerate(demo.districts, start=1):
        staff(f"d{i}_admin", Role.DISTRICT_ADMIN, district, Profession.CIVIL_SERVANT)
    for i, street in enumerate(demo.streets, start=1):
        staff(f"s{i}_admin", Role.STREET_ADMIN, street, Profession.CIVIL_SERVANT)
    for i, community in enumerate(demo.communities, start=1):
        worker = staff(
            f"c{i}_worker", Role.COMMUNITY_WORKER, community, Profession.COMMUNITY_WORKER
        )
        counsellor = staff(
            f"c{i}_counsellor",
            Role.COUNSELLOR,
            community,
            Profession.COUNSELLOR,
            Qualification.COUNSELLOR_L2 if i % 2 else Qualification.COUNSELLOR_L3,
        )
        grid_workers = [
            staff(f"c{i}_grid{g}", Role.GRID_WORKER, grid, Profession.GRID_WORKER)
            for g, grid in enumerate(demo.grids[i], start=1)
        ]
        team = Team.objects.create(
            unit=community, kind=TeamKind.COMMUNITY, name=f"{community.name}心理疏导小分队"
        )
        TeamMember.objects.create(team=team, user=counsellor, is_leader=True)
        TeamMember.objects.create(team=team, user=worker)
        # The last community's team is still short of members, as happens in practice.
        for grid_worker in grid_workers[: 0 if i == len(demo.communities) else 2]:
            TeamMember.objects.create(team=team, user=grid_worker)
    staff(
        "c1_social",
        Role.SOCIAL_WORKER,
        demo.communities[0],
        Profession.SOCIAL_WORKER,
        Qualification.SOCIAL_WORKER,
    )
    staff(
        "c2_social",
        Role.SOCIAL_WORKER,
        demo.communities[1],
        Profession.SOCIAL_WORKER,
        Qualification.SOCIAL_WORKER_ASSISTANT,
    )
    staff("c1_volunteer", Role.VOLUNTEER, demo.communities[0], Profession.VOLUNTEER)
    staff(
        "psychiatrist1",
        Role.PSYCHIATRIST,
        demo.psychiatric,
        Profession.PSYCHIATRIST,
        Qualification.PSYCHIATRIST,
    )
    staff(
        "doctor1",
        Role.PSYCHIATRIST,
        demo.hospital,
        Profession.PSYCHIATRIST,
        Qualification.PSYCHIATRIST,
    )
    staff(
        "hotline1",
        Role.HOTLINE_OPERATOR,
        demo.hotline,
        Profession.HOTLINE_OPERATOR,
        Qualification.COUNSELLOR_L3,
    )
    staff(
        "hotline2",
        Role.HOTLINE_OPERATOR,
        demo.hotline,
        Profession.HOTLINE_OPERATOR,
        Qualification.COUNSELLOR_L3,
    )
    # The centre's clinical lead: answers its online consultations and handles the alerts of
    # the anonymous callers at risk whose unnamed files the centre holds.
    staff(
        "hotline_lead",
        Role.COUNSELLOR,
        demo.hotline,
        Profession.COUNSELLOR,
        Qualification.COUNSELLOR_L2,
    )
    staff(
        "teacher1",
        Role.SCHOOL_TEACHER,
        demo.school,
        Profession.TEACHER,
        Qualification.TEACHER_CERTIFICATE,
    )
    staff(
        "station1",
        Role.COUNSELLOR,
        demo.station,
        Profession.COUNSELLOR,
        Qualification.COUNSELLOR_L2,
    )
    staff(
        "site1",
        Role.COUNSELLOR,
        demo.isolation_site,
        Profession.COUNSELLOR,
        Qualification.COUNSELLOR_L3,
    )
    staff(
        "civil1",
        Role.SOCIAL_WORKER,
        demo.civil_affairs,
        Profession.SOCIAL_WORKER,
        Qualification.SOCIAL_WORKER,
    )

    expert = Team.objects.create(unit=demo.city, kind=TeamKind.EXPERT, name="市心理危机干预专家组")
    for username in ("psychiatrist1", "doctor1", "station1"):
        TeamMember.objects.create(team=expert, user=demo.users[username])
    volunteers = Team.objects.create(
        unit=demo.districts[0], kind=TeamKind.VOLUNTEER, name="东湖区心理服务志愿者队"
    )
    TeamMember.objects.create(team=volunteers, user=demo.users["c1_volunteer"], is_leader=True)

    # Everyone but two grid workers has a signed confidentiality agreement on file.
    recorder = demo.users["city_admin"]
    start = date(2026, 1, 5)
    for k, (username, user) in enumerate(sorted(demo.users.items())):
        if username in {"c2_grid2", "c8_grid2"}:
            continue
        ConfidentialityAgreement.objects.create(
            user=user,
            signed_on=start + timedelta(days=k % 30),
            document_reference=f"BM-2026-{k + 1:04d}",
            recorded_by=recorder,
        )
    if people_per_community:
        add_demo_people(demo, rng, names, per_community=people_per_community)
        add_demo_assessments(demo, rng)
        add_demo_crisis_work(demo)
        add_demo_casework()
        add_demo_portal(demo)
        # The demo backdates rows with QuerySet.update (no signals): count it all afresh.
        from xinqiao.reports import tally

        tally.rebuild()
    return demo


def add_demo_portal(demo: DemoCity) -> None:
    """The public side (issue #8): local lessons and articles beside the built-in starter set,
    units' service phones, call-back requests waiting for the hotline, portal visit counts, and
    one light account with a booking and a mailbox thread."""
    from xinqiao.content.demo import add_demo_content
    from xinqiao.portal import demo as portal_demo
    from xinqiao.portal import demo_accounts

    add_demo_content(demo.city, demo.communities, demo.users["city_admin"])
    portal_demo.add_demo_portal(demo)
    demo_accounts.add_demo_accounts(demo)


def add_demo_casework() -> None:
    """Follow-up plans and visits, counselling sessions and a group programme, published
    availability and appointments, the hotline's roster, calls, mailbox and trend history —
    each app's own generated demo data."""
    from django.utils import timezone

    from xinqiao.booking import demo as booking_demo
    from xinqiao.counselling import demo as counselling_demo
    from xinqiao.followups import demo as followups_demo
    from xinqiao.hotline import demo as hotline_demo
    from xinqiao.hotline import demo_mailbox, demo_trends

    today = timezone.localdate()
    booking_demo.populate(today)
    counselling_demo.populate(today)
    followups_demo.populate(today)
    hotline_demo.populate(today)
    demo_mailbox.populate(today)
    demo_trends.populate(today)


# Target groups drawn for demo people, with weights (a community after an outbreak).
_DEMO_GROUPS = [
    ("general_public", 30),
    ("close_contact", 10),
    ("cured_patient", 8),
    ("family_of_patient", 10),
    ("confirmed_patient", 4),
    ("family_of_deceased", 3),
    ("frontline_medical", 4),
    ("frontline_police_community", 4),
    ("hardship", 6),
    ("child_in_difficulty", 3),
    ("disability", 3),
    ("student", 8),
    ("teacher", 2),
    ("severe_mental_disorder", 2),
    ("women_special_period", 3),
]


def add_demo_people(
    demo: DemoCity, rng: random.Random, names: _Names, *, per_community: int
) -> None:
    """Generated person files through the real actions (so timelines and audit are real).
    Document numbers use the address code 99xxxx, which is no region of China."""
    from django.utils import timezone

    from xinqiao.people import actions
    from xinqiao.people.idcard import check_char

    groups, weights = zip(*_DEMO_GROUPS, strict=True)
    today = timezone.localdate()
    serial = 0
    for i, community in enumerate(demo.communities, start=1):
        counsellor = demo.users[f"c{i}_counsellor"]
        units = [community, *demo.grids[i]]
        deceased = None
        for k in range(per_community):
            serial += 1
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 75))
            male = rng.random() < 0.5
            first17 = f"99{i:02d}{k % 100:02d}{born:%Y%m%d}{serial % 500 * 2 + int(male):03d}"
            chosen = sorted(set(rng.choices(groups, weights=weights, k=rng.choice([1, 1, 2]))))
            person = actions.register_person(
                acting_user=counsellor,
                unit=rng.choice(units),
                name=names.next(),
                id_number=first17 + check_char(first17),
                phone=f"1700000{serial:04d}",
                address=f"{community.name}演示路{rng.randrange(1, 200)}号",
                groups=chosen,
            )
            if rng.random() < 0.6:
                given_on = today - timedelta(days=rng.randrange(0, 60))
                age = person.age(given_on)
                adult = age is not None and age >= 14
                actions.give_consent(
                    acting_user=counsellor,
                    person=person,
                    purpose="assessment",
                    given_by="self" if adult else "guardian",
                    guardian_name="" if adult else "演示监护人",
                    method="on_screen",
                    given_on=given_on,
                )
            if "confirmed_patient" in chosen or "cured_patient" in chosen:
                admitted = today - timedelta(days=rng.randrange(20, 200))
                actions.record_hospital_stay(
                    acting_user=counsellor,
                    person=person,
                    hospital="心桥市第一人民医院",
                    admitted_on=admitted,
                    discharged_on=admitted + timedelta(days=rng.randrange(7, 20)),
                    outcome="cured",
                )
            if "close_contact" in chosen:
                start = today - timedelta(days=rng.randrange(5, 90))
                end = start + timedelta(days=14)
                kind = rng.choice(["home", "centralised"])
                actions.record_isolation(
                    acting_user=counsellor,
                    person=person,
                    kind=kind,
                    place="东湖区集中隔离点" if kind == "centralised" else "家中",
                    site=demo.isolation_site if kind == "centralised" else None,
                    started_on=start,
                    ended_on=end if end < today else None,
                )
            if "family_of_deceased" in chosen and deceased is None:
                deceased = actions.register_person(
                    acting_user=counsellor,
                    unit=community,
                    name=names.next(),
                    id_type="none",
                    date_of_death=today - timedelta(days=rng.randrange(30, 300)),
                )
                actions.link_family(
                    acting_user=counsellor,
                    person=deceased,
                    relative=person,
                    kind="bereaved",
                    relationship=rng.choice(["spouse", "child"]),
                )


# Answer weights for generated results: most people answer "not at all" or "several days";
# a critical item (thoughts of death or self-harm) is endorsed by few.
_DEMO_ANSWER_WEIGHTS = (60, 25, 10, 5)
_DEMO_CRITICAL_WEIGHTS = (92, 5, 2, 1)


def _demo_answers(rng: random.Random, code: str) -> list[int | None]:
    from xinqiao.instruments.library import get

    answers: list[int | None] = []
    for item in get(code).items:
        if item.optional:
            answers.append(None)
            continue
        values = sorted(item.values)
        weights = _DEMO_CRITICAL_WEIGHTS if item.critical_at_least else _DEMO_ANSWER_WEIGHTS
        answers.append(rng.choices(values, weights=weights[: len(values)])[0])
    while answers and answers[-1] is None:
        answers.pop()
    return answers


def add_demo_assessments(demo: DemoCity, rng: random.Random) -> None:
    """Generated results through the real actions: PHQ-9 or GAD-7 for about half of the
    people who consented (some twice, the first backdated a month, so the history chart has
    two points), and an anonymous campaign in the first community answered by generated
    respondents. Risk signals follow from the results, as they would."""
    from django.db.models import F
    from django.utils import timezone

    from xinqiao.assessments import actions
    from xinqiao.assessments.models import Assessment
    from xinqiao.people.models import Consent

    consented = Consent.objects.filter(purpose="assessment", withdrawn_at__isnull=True)
    people = [c.person for c in consented.select_related("person__unit").order_by("person__name")]
    counsellors = {c.pk: demo.users[f"c{i}_counsellor"] for i, c in enumerate(demo.communities, 1)}
    for person in people:
        if rng.random() >= 0.5:
            continue
        community = person.unit if person.unit.kind == "community" else person.unit.parent
        counsellor = counsellors[community.pk]  # type: ignore[union-attr]
        code = rng.choice(["phq9", "phq9", "gad7"])
        first = actions.record_assessment(
            acting_user=counsellor, person=person, instrument=code, answers=_demo_answers(rng, code)
        )
        if rng.random() < 0.3:
            Assessment.objects.filter(pk=first.pk).update(
                completed_at=F("completed_at") - timedelta(days=rng.randrange(25, 60))
            )
            actions.record_assessment(
                acting_user=counsellor,
                person=person,
                instrument=code,
                answers=_demo_answers(rng, code),
            )
    campaign = actions.create_campaign(
        acting_user=demo.users["c1_counsellor"],
        unit=demo.communities[0],
        title="集中隔离点心理筛查（匿名）",
        instrument="phq9",
        closes_on=timezone.localdate() + timedelta(days=14),
        anonymous=True,
        expected_count=60,
    )
    invitation = campaign.invitations.get()
    for k in range(24):
        assessment = actions.begin_self_assessment(
            invitation=invitation, respondent="self", resume_key=f"demo-respondent-{k}"
        )
        answers = _demo_answers(rng, "phq9")
        stopped = k % 8 == 7  # every eighth respondent stopped half-way
        for number, value in enumerate(answers[:4] if stopped else answers, start=1):
            assessment = actions.save_answer(assessment=assessment, number=number, value=value)
        if not stopped:
            actions.finish_self_assessment(assessment=assessment)


def add_demo_crisis_work(demo: DemoCity) -> None:
    """Crisis work through the real actions: one alert acknowledged, contacted and referred
    to the hospital, which accepts; a grid worker's report of a concern; a patient with a
    severe mental disorder and two follow-ups. The other alerts of the demo stay open."""
    from django.utils import timezone

    from xinqiao.people.models import Person
    from xinqiao.referrals import actions as referrals
    from xinqiao.risk import actions as risk
    from xinqiao.risk import smi_actions
    from xinqiao.risk.models import Alert

    counsellor = demo.users["c1_counsellor"]
    in_crisis = (
        Person.objects.filter(unit=demo.communities[0], status="active", alerts__isnull=True)
        .order_by("name")
        .first()
    )
    if in_crisis is not None:
        risk.report_concern(
            acting_user=demo.users["c1_worker"],
            person=in_crisis,
            behaviours=["suicide_talk"],
            note="演示：对家人说“活着没意思”",
        )
    alert = Alert.objects.filter(person=in_crisis).first()
    if alert is not None and demo.hospital is not None:
        risk.acknowledge_alert(acting_user=counsellor, alert=alert)
        risk.record_contact(acting_user=counsellor, alert=alert, mode="home_visit")
        referral = referrals.refer_person(
            acting_user=counsellor,
            person=alert.person,
            to_unit=demo.hospital,
            kind="outpatient",
            urgency="emergency",
            reason="演示：测评第9题阳性，已家访，建议门诊评估",
            contact_phone="17000009999",
            emergency_reason="演示：本人口头同意，书面同意待补",
            alert=alert,
        )
        referrals.accept_referral(acting_user=demo.users["doctor1"], referral=referral)
    grid_unit = demo.grids[1][0]
    reported = Person.objects.filter(unit=grid_unit, status="active").order_by("name").first()
    if reported is not None:
        risk.report_concern(
            acting_user=demo.users["c1_grid1"],
            person=reported,
            behaviours=["shut_in", "not_eating"],
            note="演示：近一周闭门不出，邻居反映很少吃饭",
        )
    patient_person = (
        Person.objects.filter(unit__path__startswith=demo.communities[1].path, status="active")
        .exclude(smi__isnull=False)
        .order_by("name")
        .first()
    )
    if patient_person is not None:
        worker = demo.users["c2_worker"]
        patient = smi_actions.register_smi_patient(
            acting_user=worker,
            person=patient_person,
            diagnosis="schizophrenia",
            guardian_name="演示监护人",
            custody=[("演示网格员", "grid_worker", ""), ("演示民警", "police", "")],
        )
        today = timezone.localdate()
        for days_ago, grade, symptoms in ((40, 1, "present"), (10, 0, "none")):
            smi_actions.record_smi_followup(
                acting_user=worker,
                patient=patient,
                on=today - timedelta(days=days_ago),
                risk_grade=grade,
                symptoms=symptoms,
                insight="good",
                social_function="fair",
                adverse_reaction="none",
                physical_illness="none",
                compliance="regular",
                medication="演示：利培酮 2mg，每日两次",
            )


DEMO_LOGINS = [
    ("city_admin", "City administrator (TOTP set-up on first sign-in)"),
    ("s1_admin", "Street administrator, 东湖街道 (TOTP set-up on first sign-in)"),
    ("auditor", "Auditor (access and change logs)"),
    ("c1_counsellor", "Counsellor, 春晖社区"),
    ("c2_counsellor", "Counsellor, 杏林社区"),
    ("c1_worker", "Community worker, 春晖社区"),
    ("c1_grid1", "Grid worker, 春晖社区 第一网格"),
    ("hotline1", "Hotline operator"),
    ("hotline_lead", "Counsellor, hotline centre (its alerts and online consultations)"),
    ("doctor1", "Psychiatrist, 心桥市第一人民医院 (receives referrals)"),
    ("psychiatrist1", "Psychiatrist, 心桥市精神卫生中心"),
    ("teacher1", "School psychology teacher"),
]
