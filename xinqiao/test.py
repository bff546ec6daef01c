"""The persona base for tests (modelled on healthchecks' ``hc/test.py``).

The demo city is built once per test class, plus a second city with an outsider who must see
nothing of the first. Personas (DESIGN.md "Testing"):

* ``city_admin`` — 心桥市; ``street_admin`` — 东湖街道 (communities c1 and c2);
* ``c1_counsellor``, ``c1_grid`` (grid worker, c1 第一网格), ``c1_worker`` — community c1;
* ``c2_counsellor``, ``c2_grid`` — community c2;
* ``hotline`` — hotline operator; ``psychiatrist`` — at the psychiatric institution;
* ``auditor`` — city auditor; ``volunteer`` — c1 volunteer;
* ``outsider`` — city administrator of another city.
"""

from __future__ import annotations

from typing import Any

from django.test import Client, TestCase
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinqiao.accounts.models import User
from xinqiao.ops.demo import DEMO_PASSWORD, DemoCity, build_demo_city
from xinqiao.orgs.models import Membership, StaffProfile, Unit, UnitKind
from xinqiao.orgs.permissions import Role
from xinqiao.orgs.scope import is_administrator

PASSWORD = DEMO_PASSWORD

PERSONAS = {
    "city_admin": "city_admin",
    "street_admin": "s1_admin",
    "auditor": "auditor",
    "c1_counsellor": "c1_counsellor",
    "c1_worker": "c1_worker",
    "c1_grid": "c1_grid1",
    "c2_counsellor": "c2_counsellor",
    "c2_grid": "c2_grid1",
    "hotline": "hotline1",
    "psychiatrist": "psychiatrist1",
    "volunteer": "c1_volunteer",
}


def build_outside_city() -> tuple[Unit, User]:
    """A second city and its administrator: nothing of the demo city is theirs to see."""
    city = Unit(kind=UnitKind.CITY, name="外市")
    city.path = f"/{city.id.hex}/"
    city.save()
    district = Unit(kind=UnitKind.DISTRICT, name="外区", parent=city, depth=1)
    district.path = f"{city.path}{district.id.hex}/"
    district.save()
    street = Unit(kind=UnitKind.STREET, name="外街道", parent=district, depth=2)
    street.path = f"{district.path}{street.id.hex}/"
    street.save()
    community = Unit(kind=UnitKind.COMMUNITY, name="外社区", parent=street, depth=3)
    community.path = f"{street.path}{community.id.hex}/"
    community.save()
    outsider = User.objects.create_user(username="outsider", name="外人", password=PASSWORD)
    Membership.objects.create(user=outsider, unit=city, role=Role.CITY_ADMIN)
    StaffProfile.objects.create(user=outsider)
    return city, outsider


def confirmed_device(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def login(client: Client, user: User) -> Client:
    """Sign ``user`` in; administrators with a verified second factor, as after TOTP."""
    client.force_login(user)
    if is_administrator(user):
        device = confirmed_device(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


class PersonaTestCase(TestCase):
    demo: DemoCity
    outside_city: Unit
    outsider: User
    city_admin: User
    street_admin: User
    auditor: User
    c1_counsellor: User
    c1_worker: User
    c1_grid: User
    c2_counsellor: User
    c2_grid: User
    hotline: User
    psychiatrist: User
    volunteer: User
    c1: Unit
    c2: Unit
    c3: Unit

    @classmethod
    def setUpTestData(cls) -> None:
        cls.demo = build_demo_city()
        for attr, username in PERSONAS.items():
            setattr(cls, attr, cls.demo.users[username])
        cls.outside_city, cls.outsider = build_outside_city()
        cls.c1 = cls.demo.communities[0]
        cls.c2 = cls.demo.communities[1]
        cls.c3 = cls.demo.communities[2]

    def client_for(self, user: User) -> Client:
        return login(Client(), user)

    def personas(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in [*PERSONAS, "outsider"]}
