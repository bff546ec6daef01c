"""Optimistic concurrency (issue #10 item 5): a stale edit of a person file, a follow-up plan or
a case record is refused (409) with a message naming what changed, never silently overwrites;
an edit at the current version goes through and bumps the version; on PostgreSQL two writers
with the same expected version: exactly one wins."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone, translation

from tests.people_data import phone, resident_id
from xinqiao.concurrency import StaleEdit, read_token
from xinqiao.counselling import actions as counselling_actions
from xinqiao.counselling.forms import CaseRecordForm
from xinqiao.counselling.models import SessionParticipant
from xinqiao.followups import actions as followup_actions
from xinqiao.followups.models import FollowUpPlan, FollowUpVisit
from xinqiao.ops.demo import build_demo_city
from xinqiao.people import actions as people_actions
from xinqiao.people.forms import PersonEditForm
from xinqiao.people.models import Person
from xinqiao.test import PersonaTestCase

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 5, 11)
BORN = date(1979, 4, 3)
CASE = {
    "basic_situation": "测试情况：近来睡眠差",
    "self_evaluation": "测试自评：还行",
    "life_events": "测试事件：搬家",
    "advice": "测试建议：规律作息",
}


def at(day: date = DAY) -> time_machine.travel:
    return time_machine.travel(datetime(day.year, day.month, day.day, 10, tzinfo=SH), tick=False)


def as_post(form: Any) -> dict[str, Any]:
    """What a browser posts back from the form as shown (its values, hidden ones included)."""
    data: dict[str, Any] = {}
    for field in form:
        value = field.value()
        if value is None or value is False:
            continue
        if value is True:
            data[field.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[field.html_name] = [str(v) for v in value]
        elif isinstance(value, date):
            data[field.html_name] = value.isoformat()
        else:
            data[field.html_name] = str(value)
    return data


def zh(label: Any) -> str:
    with translation.override("zh-hans"):
        return str(label)


def register(user: Any, unit: Any, serial: int) -> Person:
    return people_actions.register_person(
        acting_user=user,
        unit=unit,
        name=f"并发编辑{serial}",
        id_number=resident_id(BORN, serial + 300),
        phone=phone(serial + 300),
        address="测试路1号",
    )


def give_counselling_consent(user: Any, person: Person) -> None:
    people_actions.give_consent(
        acting_user=user,
        person=person,
        purpose="counselling",
        given_by="self",
        method="signed_paper",
        given_on=timezone.localdate(),
    )


def individual_session(user: Any, person: Person) -> Any:
    return counselling_actions.record_session(
        acting_user=user,
        kind="individual",
        format="offline",
        held_at=timezone.now() - timedelta(hours=1),
        participants=[{"person": person, **CASE}],
    )


class StaleEditTests(PersonaTestCase):
    # --- person files ----------------------------------------------------------------------

    def setUp(self) -> None:
        self.person = register(self.c1_counsellor, self.c1, 1)
        self.url = f"/people/{self.person.pk}/edit/"

    def test_the_second_of_two_stale_edits_is_refused_and_the_first_stands(self):
        first, second = self.client_for(self.c1_counsellor), self.client_for(self.c1_worker)
        page_first, page_second = first.get(self.url), second.get(self.url)
        self.assertContains(page_second, 'name="version"')
        self.assertContains(page_second, 'name="read_digests"')
        read_at = self.person.version

        saved = first.post(self.url, as_post(page_first.context["form"]) | {"phone": phone(9001)})
        self.assertEqual(saved.status_code, 302)
        mine = as_post(page_second.context["form"]) | {"address": "测试街99号"}
        refused = second.post(self.url, mine)

        self.assertEqual(refused.status_code, 409)
        label = zh(PersonEditForm.base_fields["phone"].label)
        self.assertContains(
            refused, f"您编辑期间，他人修改了这份档案：{label}已更改。", status_code=409
        )
        self.assertContains(refused, f"{label}现为：{phone(9001)}", status_code=409)
        self.assertContains(refused, "您填写的内容保留在下方", status_code=409)
        address = zh(PersonEditForm.base_fields["address"].label)
        self.assertNotContains(refused, f"{address}现为", status_code=409)
        person = Person.objects.get(pk=self.person.pk)
        self.assertEqual((person.phone, person.address), (phone(9001), "测试路1号"))
        self.assertEqual(person.version, read_at + 1)
        # The user's input is kept; the field they had not touched shows the current value,
        # and the form now carries the current version.
        form = refused.context["form"]
        self.assertEqual(form["address"].value(), "测试街99号")
        self.assertEqual(form["phone"].value(), phone(9001))
        self.assertEqual(form["version"].value(), str(person.version))

        # Saving the re-shown form again is a deliberate edit: it keeps the first's change.
        again = second.post(self.url, as_post(form))
        self.assertEqual(again.status_code, 302)
        person.refresh_from_db()
        self.assertEqual((person.phone, person.address), (phone(9001), "测试街99号"))
        self.assertEqual(person.version, read_at + 2)

    def test_both_changed_the_same_field_the_second_keeps_their_input(self):
        first, second = self.client_for(self.c1_counsellor), self.client_for(self.c1_worker)
        page_first, page_second = first.get(self.url), second.get(self.url)
        first.post(self.url, as_post(page_first.context["form"]) | {"notes": "甲的备注"})
        refused = second.post(
            self.url, as_post(page_second.context["form"]) | {"notes": "乙的备注"}
        )
        self.assertEqual(refused.status_code, 409)
        self.assertContains(refused, "甲的备注", status_code=409)  # the current value, shown
        self.assertEqual(refused.context["form"]["notes"].value(), "乙的备注")
        self.assertEqual(Person.objects.get(pk=self.person.pk).notes, "甲的备注")

    def test_an_edit_at_the_current_version_succeeds_and_bumps_it(self):
        client = self.client_for(self.c1_counsellor)
        before = Person.objects.get(pk=self.person.pk).version
        page = client.get(self.url)
        saved = client.post(self.url, as_post(page.context["form"]) | {"name": "并发编辑改名"})
        self.assertEqual(saved.status_code, 302)
        person = Person.objects.get(pk=self.person.pk)
        self.assertEqual((person.name, person.version), ("并发编辑改名", before + 1))

    def test_a_save_that_changed_none_of_the_form_fields_is_no_conflict(self):
        client = self.client_for(self.c1_counsellor)
        page = client.get(self.url)
        read_at = int(page.context["form"]["version"].value())
        people_actions.add_group(  # the priority level is recomputed: the file is saved
            acting_user=self.c1_counsellor,
            person=self.person,
            group="confirmed_patient",
            date_from=timezone.localdate(),
        )
        self.assertGreater(Person.objects.get(pk=self.person.pk).version, read_at)
        saved = client.post(self.url, as_post(page.context["form"]) | {"ethnicity": "汉族"})
        self.assertEqual(saved.status_code, 302)
        self.assertEqual(Person.objects.get(pk=self.person.pk).ethnicity, "汉族")

    def test_the_action_without_a_version_works_as_before_and_with_one_refuses(self):
        read = Person.objects.get(pk=self.person.pk)
        token = read_token(read, people_actions.EDITABLE_FIELDS)
        people_actions.update_person(
            acting_user=self.c1_worker, person=self.person, address="测试路2号"
        )
        with self.assertRaises(StaleEdit) as caught:
            people_actions.update_person(
                acting_user=self.c1_counsellor,
                person=self.person,
                expected_version=read.version,
                read_digests=token,
                phone=phone(9002),
            )
        self.assertEqual(caught.exception.changed, ["address"])
        # The refusal's message names the field, never a value (it may reach a log).
        self.assertNotIn("测试路2号", str(caught.exception))
        # A version without the digests: refused, without naming fields.
        with self.assertRaises(StaleEdit) as blind:
            people_actions.update_person(
                acting_user=self.c1_counsellor,
                person=self.person,
                expected_version=read.version,
                phone=phone(9002),
            )
        self.assertEqual(blind.exception.changed, [])
        self.assertEqual(Person.objects.get(pk=self.person.pk).phone, phone(300 + 1))

    # --- follow-up plans -------------------------------------------------------------------

    def test_a_visit_on_a_plan_changed_since_is_refused(self):
        with at():
            person = register(self.c1_counsellor, self.c1, 2)
            url = f"/followups/people/{person.pk}/visit/"
            first, second = self.client_for(self.c1_counsellor), self.client_for(self.c1_worker)
            page_first, page_second = first.get(url), second.get(url)
            visit = {"mode": "phone", "outcome": "reached", "state": "stable"}
            done = first.post(url, as_post(page_first.context["form"]) | visit)
            self.assertEqual(done.status_code, 302)
            plan = FollowUpPlan.objects.get(person=person)
            version = plan.version

            mine = visit | {"mode": "home_visit", "guidance": "测试指导"}
            refused = second.post(url, as_post(page_second.context["form"]) | mine)
            self.assertEqual(refused.status_code, 409)
            last_contact = zh(FollowUpPlan._meta.get_field("last_contact_on").verbose_name)
            self.assertContains(refused, "他人修改了该随访计划", status_code=409)
            self.assertContains(refused, last_contact, status_code=409)
            self.assertContains(refused, f"{DAY:%Y-%m-%d}", status_code=409)
            self.assertEqual(refused.context["form"]["guidance"].value(), "测试指导")
            self.assertEqual(FollowUpVisit.objects.filter(person=person).count(), 1)
            self.assertEqual(FollowUpPlan.objects.get(person=person).version, version)

            # At the current version (the re-shown form) it is recorded and bumps the plan.
            again = second.post(url, as_post(refused.context["form"]))
            self.assertEqual(again.status_code, 302)
            self.assertEqual(FollowUpVisit.objects.filter(person=person).count(), 2)
            self.assertGreater(FollowUpPlan.objects.get(person=person).version, version)

    # --- case records ----------------------------------------------------------------------

    def test_a_stale_correction_of_a_case_record_is_refused(self):
        social = self.demo.users["c1_social"]
        person = register(self.c1_counsellor, self.c1, 3)
        give_counselling_consent(self.c1_counsellor, person)
        session = individual_session(self.c1_counsellor, person)
        participant = session.participants.get()
        url = f"/counselling/{session.pk}/participants/{participant.pk}/"
        first, second = self.client_for(self.c1_counsellor), self.client_for(social)
        page_first, page_second = first.get(url), second.get(url)
        self.assertEqual(page_second.status_code, 200)

        done = first.post(url, as_post(page_first.context["form"]) | {"advice": "测试建议：转介"})
        self.assertEqual(done.status_code, 302)
        refused = second.post(url, as_post(page_second.context["form"]) | {"note": "测试补充"})
        self.assertEqual(refused.status_code, 409)
        label = zh(CaseRecordForm.base_fields["advice"].label)
        self.assertContains(
            refused, f"您编辑期间，他人修改了这份个案记录：{label}已更改。", status_code=409
        )
        self.assertContains(refused, "测试建议：转介", status_code=409)
        current = SessionParticipant.objects.get(pk=participant.pk)
        self.assertEqual((current.advice, current.note), ("测试建议：转介", ""))
        self.assertEqual(refused.context["form"]["note"].value(), "测试补充")

        again = second.post(url, as_post(refused.context["form"]))
        self.assertEqual(again.status_code, 302)
        current.refresh_from_db()
        self.assertEqual((current.advice, current.note), ("测试建议：转介", "测试补充"))

    def test_a_correction_at_the_current_version_bumps_it(self):
        person = register(self.c1_counsellor, self.c1, 4)
        give_counselling_consent(self.c1_counsellor, person)
        participant = individual_session(self.c1_counsellor, person).participants.get()
        before = participant.version
        counselling_actions.update_case_record(
            acting_user=self.c1_counsellor,
            participant=participant,
            expected_version=before,
            read_digests=read_token(participant, counselling_actions.CASE_FIELDS),
            advice="测试建议：复诊",
        )
        self.assertEqual(SessionParticipant.objects.get(pk=participant.pk).version, before + 1)


class ConcurrentEditTests(TransactionTestCase):
    """Two writers at the same moment with the same expected version: exactly one wins."""

    def race(self, writers: list[Any]) -> list[str]:
        barrier = threading.Barrier(len(writers))
        outcomes: list[str] = []

        def run(write: Any) -> None:
            try:
                barrier.wait(timeout=10)
                write()
                outcomes.append("saved")
            except StaleEdit:
                outcomes.append("stale")
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(w,)) for w in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return sorted(outcomes)

    def test_exactly_one_of_two_concurrent_stale_edits_wins(self):
        if connection.vendor != "postgresql":
            # The in-memory SQLite test database locks whole tables across threads; the
            # embedded default (a file in WAL mode) serialises writers instead.
            self.skipTest("concurrent writers are tested on PostgreSQL")
        demo = build_demo_city()
        counsellor, worker = demo.users["c1_counsellor"], demo.users["c1_worker"]
        social = demo.users["c1_social"]
        unit = demo.communities[0]

        person = register(counsellor, unit, 5)
        read = Person.objects.get(pk=person.pk)
        token = read_token(read, people_actions.EDITABLE_FIELDS)

        def edit(user: Any, number: str) -> Any:
            return lambda: people_actions.update_person(
                acting_user=user,
                person=person,
                expected_version=read.version,
                read_digests=token,
                phone=number,
            )

        self.assertEqual(
            self.race([edit(counsellor, phone(9101)), edit(worker, phone(9102))]),
            ["saved", "stale"],
        )
        person.refresh_from_db()
        self.assertIn(person.phone, {phone(9101), phone(9102)})
        self.assertEqual(person.version, read.version + 1)

        plan = FollowUpPlan.objects.get(person=person)
        plan_token = read_token(plan, followup_actions.PLAN_FIELDS)

        def visit(user: Any) -> Any:
            return lambda: followup_actions.record_visit(
                acting_user=user,
                person=person,
                visited_on=timezone.localdate(),
                mode="phone",
                outcome="reached",
                state="stable",
                expected_version=plan.version,
                read_digests=plan_token,
            )

        self.assertEqual(self.race([visit(counsellor), visit(worker)]), ["saved", "stale"])
        self.assertEqual(FollowUpVisit.objects.filter(person=person).count(), 1)

        give_counselling_consent(counsellor, person)
        participant = individual_session(counsellor, person).participants.get()
        case_token = read_token(participant, counselling_actions.CASE_FIELDS)

        def correct(user: Any, advice: str) -> Any:
            return lambda: counselling_actions.update_case_record(
                acting_user=user,
                participant=participant,
                expected_version=participant.version,
                read_digests=case_token,
                advice=advice,
            )

        self.assertEqual(
            self.race([correct(counsellor, "测试建议：甲"), correct(social, "测试建议：乙")]),
            ["saved", "stale"],
        )
        current = SessionParticipant.objects.get(pk=participant.pk)
        self.assertEqual(current.version, participant.version + 1)
