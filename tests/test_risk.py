"""Risk levels, the response matrix, crisis alerts with escalation, reports of concern, the
key-person list, the alerts API and the crisis report (issue #5 items 1–4, 6, 9, 10)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client, TransactionTestCase
from django.utils import timezone

from tests.people_data import resident_id
from xinqiao.assessments import actions as assessment_actions
from xinqiao.ops.jobs import wait_until_done
from xinqiao.ops.models import Job
from xinqiao.people import actions as people_actions
from xinqiao.risk import actions, response, rules
from xinqiao.risk.models import Alert, AlertEvent, AlertStatus, PersonRisk, RiskSignal
from xinqiao.test import PersonaTestCase

PHQ9_ITEM9_NEARLY_EVERY_DAY = [1, 1, 1, 1, 1, 1, 1, 1, 3]  # 11, moderate, item 9 = 3
PHQ9_ITEM9_SEVERAL_DAYS = [1, 1, 1, 1, 1, 1, 1, 1, 1]  # 9, mild, item 9 = 1
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]


# --- the rule table (pure) ------------------------------------------------------------------

RULE_CASES = [
    ("asq_acute", {"source": "assessment", "flags": ["acute_suicide_risk"]}, 1),
    (
        "phq9_item9_nearly_every_day",
        {
            "source": "assessment",
            "instrument": "phq9",
            "reasons": [{"code": "critical_item", "item": 9, "value": 3}],
            "flags": ["suicidal_ideation"],
        },
        1,
    ),
    ("suicide_risk_item", {"source": "assessment", "flags": ["suicidal_ideation"]}, 2),
    ("suicide_risk_item", {"source": "assessment", "flags": ["suicide_risk_positive"]}, 2),
    ("suicide_risk_item", {"source": "assessment", "flags": ["suicide_attempt_history"]}, 2),
    ("urgent_band", {"source": "assessment", "intervention": "urgent"}, 2),
    ("most_severe_band", {"source": "assessment", "band_index": 3, "band_count": 4}, 3),
    ("concern_crisis_behaviour", {"source": "concern_report", "behaviours": ["self_harm"]}, 1),
    ("concern_high_behaviour", {"source": "concern_report", "behaviours": ["agitation"]}, 2),
    ("concern_note_high", {"source": "concern_report", "note_risk": "high"}, 1),
    ("concern_note_medium", {"source": "concern_report", "note_risk": "medium"}, 2),
    ("concern_reported", {"source": "concern_report", "behaviours": ["shut_in"]}, 3),
    ("hotline_high", {"source": "hotline_call", "call_risk": "high"}, 1),
    ("hotline_medium", {"source": "hotline_call", "call_risk": "medium"}, 2),
    ("mailbox_high", {"source": "mailbox", "text_risk": "high"}, 2),
    ("callback_note_high", {"source": "portal_callback", "text_risk": "high"}, 2),
    ("hospital_discharge", {"source": "hospital_discharge"}, 3),
    ("smi_grade_violent", {"source": "smi_grade", "grade": 5}, 1),
    ("smi_grade_violent", {"source": "smi_grade", "grade": 4}, 1),
    ("smi_grade_unstable", {"source": "smi_grade", "grade": 3}, 2),
    ("smi_unstable", {"source": "smi_grade", "grade": 0, "status": "unstable"}, 2),
    ("smi_grade_basically_stable", {"source": "smi_grade", "grade": 1}, 3),
]


@pytest.mark.parametrize(("rule", "facts", "level"), RULE_CASES)
def test_every_rule_of_the_table(rule, facts, level):
    decision = rules.evaluate(facts)
    assert decision is not None
    assert rule in decision.rules
    assert decision.level == level


def test_every_rule_is_covered_and_cites_its_source():
    assert {case[0] for case in RULE_CASES} == set(rules.RULES_BY_CODE)
    for rule in rules.RULES:
        assert len(rule.citation) > 20, rule.code


def test_nothing_applies_to_a_quiet_result_and_the_most_urgent_rule_wins():
    assert rules.evaluate({"source": "assessment", "band_index": 0, "band_count": 5}) is None
    assert rules.evaluate({"source": "smi_grade", "grade": 0}) is None
    both = rules.evaluate({"source": "concern_report", "behaviours": ["shut_in", "suicide_talk"]})
    assert both is not None
    assert both.level == 1
    assert {"concern_crisis_behaviour", "concern_reported"} <= set(both.rules)


def test_a_signal_never_lowers_a_level():
    assert rules.merged_level(None, 3) == 3
    assert rules.merged_level(1, 3) == 1
    assert rules.merged_level(3, 2) == 2


def test_the_response_matrix_defaults_and_overrides():
    default = response.matrix()
    assert default[1].notify_street
    assert default[1].ack_minutes == 15
    assert not default[4].alert
    assert all(r.followup_days <= 180 for r in default.values())  # seed 000 二(五)
    changed = response.matrix({2: {"ack_minutes": 30}})
    assert changed[2].ack_minutes == 30
    assert changed[1] == default[1]
    assert response.check(changed[2]) == []
    bad = response.matrix({3: {"followup_days": 365, "ack_minutes": 0, "action": "x"}})[3]
    assert set(response.check(bad)) == {"followup_days", "ack_minutes", "action"}


# --- alerts in the platform ------------------------------------------------------------------


class RiskTestCase(PersonaTestCase):
    def person(self, *, unit=None, serial=1, consent=True):
        person = people_actions.register_person(
            acting_user=self.c1_counsellor,
            unit=unit or self.c1,
            name=f"测人{serial}",
            id_number=resident_id(date(1982, 3, 4), serial),
        )
        if consent:
            people_actions.give_consent(
                acting_user=self.c1_counsellor,
                person=person,
                purpose="assessment",
                given_by="self",
                method="signed_paper",
                given_on=timezone.localdate(),
            )
        return person

    def assess(self, person, answers=PHQ9_ITEM9_NEARLY_EVERY_DAY, instrument="phq9"):
        return assessment_actions.record_assessment(
            acting_user=self.c1_counsellor, person=person, instrument=instrument, answers=answers
        )


class AlertLifecycleTests(RiskTestCase):
    def test_a_crisis_result_opens_an_alert_with_deadline_notifications_and_escalation(self):
        person = self.person()
        before = timezone.now()
        self.assess(person)
        signal = RiskSignal.objects.get(person=person)
        self.assertEqual((signal.level, signal.rules[0]), (1, "phq9_item9_nearly_every_day"))
        risk = PersonRisk.objects.get(person=person)
        self.assertEqual(risk.level, 1)
        alert = Alert.objects.get(person=person)
        self.assertEqual((alert.status, alert.level), (AlertStatus.OPEN, 1))
        self.assertLessEqual(alert.ack_deadline - before, timedelta(minutes=15, seconds=5))
        job = Job.objects.get(kind="risk.escalate")
        self.assertEqual(job.run_at, alert.ack_deadline)
        from xinqiao.notify.models import Notification

        told = set(
            Notification.objects.filter(object_id=str(alert.pk)).values_list(
                "recipient__username", flat=True
            )
        )
        # The counsellor of the community, the community team and the street office (报告街道).
        self.assertIn("c1_counsellor", told)
        self.assertIn("s1_admin", told)
        self.assertNotIn("c2_counsellor", told)
        for note in Notification.objects.filter(object_id=str(alert.pk)):
            self.assertNotIn(person.name, note.subject + note.body)  # no names in messages

    def test_acknowledge_contact_resolve_with_every_step_timestamped(self):
        person = self.person()
        self.assess(person)
        alert = Alert.objects.get(person=person)
        actions.acknowledge_alert(acting_user=self.c1_counsellor, alert=alert)
        with pytest.raises(ValidationError):
            actions.resolve_alert(acting_user=self.c1_counsellor, alert=alert, outcome="")
        actions.record_contact(acting_user=self.c1_counsellor, alert=alert, mode="home_visit")
        actions.resolve_alert(
            acting_user=self.c1_counsellor, alert=alert, outcome="已陪同就诊，家属陪护"
        )
        alert.refresh_from_db()
        self.assertEqual(alert.status, AlertStatus.RESOLVED)
        self.assertIsNotNone(alert.acknowledged_at)
        self.assertIsNotNone(alert.first_contact_at)
        kinds = list(alert.events.values_list("kind", flat=True))
        self.assertEqual(kinds[0], "raised")
        for kind in ("notified", "acknowledged", "contact", "resolved"):
            self.assertIn(kind, kinds)
        self.assertEqual(PersonRisk.objects.get(person=person).responsible, self.c1_counsellor)
        # A resolved alert goes nowhere else.
        with pytest.raises(ValidationError):
            actions.record_contact(acting_user=self.c1_counsellor, alert=alert, mode="phone")

    def test_a_second_signal_joins_the_active_alert_and_raises_its_level(self):
        person = self.person()
        self.assess(person, PHQ9_ITEM9_SEVERAL_DAYS)
        alert = Alert.objects.get(person=person)
        self.assertEqual(alert.level, 2)
        actions.report_concern(
            acting_user=self.c1_worker,
            person=person,
            behaviours=["suicide_talk"],
            note="说不想活了",
        )
        self.assertEqual(Alert.objects.filter(person=person).count(), 1)
        alert.refresh_from_db()
        self.assertEqual(alert.level, 1)
        self.assertTrue(alert.events.filter(kind="level_raised").exists())

    def test_the_free_text_of_a_report_passes_triage(self):
        # Ticked behaviour alone: a key-person level (3); the words tell of a plan: a crisis.
        calm = self.person()
        actions.report_concern(
            acting_user=self.c1_worker, person=calm, behaviours=["shut_in"], note="很少出门"
        )
        self.assertEqual(PersonRisk.objects.get(person=calm).level, 3)
        worried = self.person(serial=2)
        actions.report_concern(
            acting_user=self.c1_worker,
            person=worried,
            behaviours=["shut_in"],
            note="邻居反映他这几天说不想活了，已经写好遗书",
        )
        self.assertLessEqual(PersonRisk.objects.get(person=worried).level, 2)
        self.assertTrue(Alert.objects.filter(person=worried).exists())
        signal = worried.risk_signals.get()
        self.assertIn(signal.facts["note_risk"], {"medium", "high"})
        self.assertNotIn("遗书", str(signal.facts))  # the facts keep no text

    def test_a_milder_result_never_lowers_the_level_only_a_counsellor_with_a_reason(self):
        person = self.person()
        self.assess(person)
        self.assess(person, PHQ9_MILD)
        self.assertEqual(PersonRisk.objects.get(person=person).level, 1)
        with pytest.raises(PermissionDenied):
            actions.set_risk_level(acting_user=self.c1_grid, person=person, level=3, reason="好转")
        with pytest.raises(ValidationError):
            actions.set_risk_level(
                acting_user=self.c1_counsellor, person=person, level=3, reason=""
            )
        actions.set_risk_level(
            acting_user=self.c1_counsellor, person=person, level=3, reason="复评后情绪稳定"
        )
        risk = PersonRisk.objects.get(person=person)
        self.assertEqual(risk.level, 3)
        change = person_changes(person)[0]
        self.assertEqual(
            (change.from_level, change.to_level, change.changed_by), (1, 3, self.c1_counsellor)
        )

    def test_a_grid_workers_report_raises_a_crisis_alert(self):
        person = self.person(unit=self.demo.grids[1][0], consent=False)
        client = self.client_for(self.c1_grid)
        page = client.get(f"/risk/people/{person.pk}/concern/")
        self.assertContains(page, 'name="behaviours"')
        empty = client.post(f"/risk/people/{person.pk}/concern/", {"note": "x"})
        self.assertEqual(empty.status_code, 200)
        client.post(
            f"/risk/people/{person.pk}/concern/",
            {"behaviours": ["self_harm", "not_eating"], "note": "手腕有伤"},
        )
        alert = Alert.objects.get(person=person)
        self.assertEqual(alert.level, 1)
        self.assertEqual(alert.signal.source, "concern_report")
        self.assertEqual(
            self.client_for(self.c2_grid).get(f"/risk/people/{person.pk}/concern/").status_code,
            404,
        )


def person_changes(person):
    from xinqiao.risk.models import RiskLevelChange

    return list(RiskLevelChange.objects.filter(person=person))


class EscalationTests(RiskTestCase):
    def test_unacknowledged_alerts_go_up_the_tree_until_someone_acknowledges(self):
        person = self.person()
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            self.assess(person)
        alert = Alert.objects.get(person=person)
        street, district, city = self.demo.streets[0], self.demo.districts[0], self.demo.city
        expected = [street, district, city, city]
        for step, unit in enumerate(expected, start=1):
            with time_machine.travel(alert.ack_deadline + timedelta(seconds=1), tick=False):
                wait_until_done()
            alert.refresh_from_db()
            self.assertEqual((alert.escalation_step, alert.escalated_to), (step, unit), step)
        from xinqiao.notify.models import Notification

        told = set(
            Notification.objects.filter(object_id=str(alert.pk)).values_list(
                "recipient__username", flat=True
            )
        )
        self.assertTrue({"s1_admin", "d1_admin", "city_admin"} <= told)
        self.assertEqual(alert.events.filter(kind="escalated").count(), 4)
        # The city administrator it reached acknowledges: the escalation stops.
        actions.acknowledge_alert(acting_user=self.city_admin, alert=alert)
        with time_machine.travel(alert.ack_deadline + timedelta(hours=1), tick=False):
            wait_until_done()
        alert.refresh_from_db()
        self.assertEqual((alert.status, alert.escalation_step), (AlertStatus.ACKNOWLEDGED, 4))

    def test_an_acknowledged_alert_does_not_escalate(self):
        person = self.person()
        self.assess(person)
        alert = Alert.objects.get(person=person)
        actions.acknowledge_alert(acting_user=self.c1_counsellor, alert=alert)
        with time_machine.travel(alert.ack_deadline + timedelta(minutes=1), tick=False):
            wait_until_done()
        alert.refresh_from_db()
        self.assertEqual(alert.escalation_step, 0)

    def test_a_job_run_early_by_a_clock_jump_waits_for_the_stored_deadline(self):
        person = self.person()
        self.assess(person)
        alert = Alert.objects.get(person=person)
        actions.escalate(alert.pk, step=0)  # the clock says it is too early
        alert.refresh_from_db()
        self.assertEqual(alert.escalation_step, 0)
        self.assertTrue(
            Job.objects.filter(kind="risk.escalate", status="pending", run_at=alert.ack_deadline)
            .exclude(key=f"escalate:{alert.pk}:0")
            .exists()
        )

    def test_each_level_has_its_deadline(self):
        for serial, (answers, level, minutes) in enumerate(
            [
                (PHQ9_ITEM9_NEARLY_EVERY_DAY, 1, 15),
                (PHQ9_ITEM9_SEVERAL_DAYS, 2, 60),
                ([3, 3, 3, 3, 3, 3, 3, 0], 3, 24 * 60),  # GAD-7 21: most severe band
            ],
            start=10,
        ):
            person = self.person(serial=serial)
            now = timezone.now()
            with time_machine.travel(now, tick=False):
                self.assess(person, answers, "phq9" if level < 3 else "gad7")
            alert = Alert.objects.get(person=person)
            self.assertEqual(alert.level, level)
            self.assertEqual(alert.ack_deadline, now + timedelta(minutes=minutes))

    def test_a_city_can_change_its_matrix(self):
        actions.set_response(
            acting_user=self.city_admin,
            city=self.demo.city,
            level=2,
            alert=True,
            ack_minutes=5,
            notify_team=True,
            notify_street=True,
            action="one_to_one",
            followup_days=3,
        )
        person = self.person()
        now = timezone.now()
        with time_machine.travel(now, tick=False):
            self.assess(person, PHQ9_ITEM9_SEVERAL_DAYS)
        self.assertEqual(Alert.objects.get(person=person).ack_deadline, now + timedelta(minutes=5))
        with pytest.raises(ValidationError) as info:
            actions.set_response(
                acting_user=self.city_admin,
                city=self.demo.city,
                level=3,
                alert=True,
                ack_minutes=60,
                notify_team=False,
                notify_street=False,
                action="one_to_one",
                followup_days=400,
            )
        self.assertIn("followup_days", info.value.message_dict)
        with pytest.raises(PermissionDenied):
            actions.set_response(
                acting_user=self.street_admin,
                city=self.demo.city,
                level=3,
                alert=True,
                ack_minutes=60,
                notify_team=False,
                notify_street=False,
                action="one_to_one",
                followup_days=30,
            )


class ConcurrentAcknowledgementTests(TransactionTestCase):
    def test_two_counsellors_acknowledging_at_once_exactly_one_wins(self):
        if connection.vendor != "postgresql":
            self.skipTest("concurrent writers are tested on PostgreSQL")
        from xinqiao.ops.demo import build_demo_city

        demo = build_demo_city()
        counsellor = demo.users["c1_counsellor"]
        person = people_actions.register_person(
            acting_user=counsellor, unit=demo.communities[0], name="并发预警", id_type="none"
        )
        people_actions.give_consent(
            acting_user=counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            method="signed_paper",
            given_on=timezone.localdate(),
        )
        assessment_actions.record_assessment(
            acting_user=counsellor,
            person=person,
            instrument="phq9",
            answers=PHQ9_ITEM9_NEARLY_EVERY_DAY,
        )
        alert = Alert.objects.get(person=person)
        users = [counsellor, demo.users["c1_worker"]]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def acknowledge(user):
            try:
                barrier.wait(timeout=10)
                actions.acknowledge_alert(acting_user=user, alert=alert)
                outcomes.append("won")
            except actions.AlreadyAcknowledged as exc:
                outcomes.append(exc.messages[0])
            finally:
                connection.close()

        threads = [threading.Thread(target=acknowledge, args=(u,)) for u in users]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(len(outcomes), 2)
        self.assertEqual(outcomes.count("won"), 1)
        alert.refresh_from_db()
        loser_message = next(o for o in outcomes if o != "won")
        self.assertIn(alert.acknowledged_by.name, loser_message)
        self.assertEqual(AlertEvent.objects.filter(alert=alert, kind="acknowledged").count(), 1)


class ConcurrentSignalTests(TransactionTestCase):
    def test_two_signals_at_once_for_one_person_make_one_alert(self):
        if connection.vendor != "postgresql":
            self.skipTest("concurrent writers are tested on PostgreSQL")
        from xinqiao.ops.demo import build_demo_city

        demo = build_demo_city()
        person = people_actions.register_person(
            acting_user=demo.users["c1_counsellor"],
            unit=demo.communities[0],
            name="同时上报",
            id_type="none",
        )
        reporters = [demo.users["c1_counsellor"], demo.users["c1_worker"]]
        barrier = threading.Barrier(2)
        errors: list[Exception] = []

        def report(user):
            try:
                barrier.wait(timeout=10)
                actions.report_concern(acting_user=user, person=person, behaviours=["self_harm"])
            except Exception as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=report, args=(u,)) for u in reporters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(errors, [])
        self.assertEqual(RiskSignal.objects.filter(person=person).count(), 2)
        alert = Alert.objects.get(person=person)
        self.assertEqual(alert.events.filter(kind="signal").count(), 1)


class PagesAndApiTests(RiskTestCase):
    def test_alert_pages_show_their_steps_and_answer_404_elsewhere(self):
        person = self.person()
        self.assess(person)
        alert = Alert.objects.get(person=person)
        client = self.client_for(self.c1_counsellor)
        home = client.get("/").content.decode()
        self.assertIn('id="open-alerts"', home)
        self.assertIn(person.name, home)
        page = client.get(f"/risk/alerts/{alert.pk}/")
        self.assertContains(page, "phq9_item9_nearly_every_day")
        client.post(f"/risk/alerts/{alert.pk}/acknowledge/")
        again = client.post(f"/risk/alerts/{alert.pk}/acknowledge/", follow=True)
        self.assertContains(again, self.c1_counsellor.name)
        client.post(f"/risk/alerts/{alert.pk}/contact/", {"mode": "phone"})
        client.post(f"/risk/alerts/{alert.pk}/resolve/", {"outcome": "情况稳定，转入随访"})
        alert.refresh_from_db()
        self.assertEqual(alert.status, AlertStatus.RESOLVED)
        for url in (f"/risk/alerts/{alert.pk}/", f"/risk/alerts/{alert.pk}/report.pdf"):
            self.assertEqual(self.client_for(self.c2_counsellor).get(url).status_code, 404)
        pdf = client.get(f"/risk/alerts/{alert.pk}/report.pdf")
        self.assertTrue(pdf.content.startswith(b"%PDF"))

    def test_key_person_list_by_grid(self):
        in_grid = self.person(unit=self.demo.grids[1][0], serial=1)
        elsewhere = self.person(unit=self.demo.grids[1][1], serial=2)
        mild = self.person(serial=3)
        self.assess(in_grid)
        self.assess(elsewhere, PHQ9_ITEM9_SEVERAL_DAYS)
        self.assess(mild, [3, 3, 3, 3, 3, 3, 3, 0], "gad7")  # level 3: not a key person
        counsellor_list = self.client_for(self.c1_counsellor).get("/risk/key-people/")
        names = {p.name for p in counsellor_list.context["page"]}
        self.assertEqual(names, {in_grid.name, elsewhere.name})
        grid_list = self.client_for(self.c1_grid).get("/risk/key-people/")
        self.assertEqual({p.name for p in grid_list.context["page"]}, {in_grid.name})
        self.assertEqual(
            self.client_for(self.c2_counsellor)
            .get("/risk/key-people/")
            .context["page"]
            .paginator.count,
            0,
        )

    def test_api_lists_open_alerts_and_acknowledges_once(self):
        person = self.person()
        self.assess(person)
        alert = Alert.objects.get(person=person)
        client = self.client_for(self.c1_counsellor)
        listed = client.get("/api/v1/alerts/?status=open").json()
        self.assertEqual(listed["count"], 1)
        self.assertEqual(
            set(listed["results"][0])
            >= {"id", "person", "level", "status", "created", "ack_deadline"},
            True,
        )
        self.assertEqual(listed["results"][0]["id"], str(alert.pk))
        self.assertEqual(
            self.client_for(self.c2_counsellor).get("/api/v1/alerts/").json()["count"], 0
        )
        first = client.post(f"/api/v1/alerts/{alert.pk}/acknowledge")
        self.assertEqual(first.status_code, 200)
        self.assertEqual(first.json()["status"], "acknowledged")
        second = self.client_for(self.c1_worker).post(f"/api/v1/alerts/{alert.pk}/acknowledge")
        self.assertEqual(second.status_code, 409)
        outside = self.client_for(self.c2_counsellor).post(f"/api/v1/alerts/{alert.pk}/acknowledge")
        self.assertEqual(outside.status_code, 404)

    def test_crisis_report_names_the_person_only_for_roles_that_open_files(self):
        from django.template.loader import render_to_string

        from xinqiao.risk.views import report_context

        person = self.person()
        self.assess(person)
        alert = Alert.objects.get(person=person)
        actions.acknowledge_alert(acting_user=self.c1_counsellor, alert=alert)
        named = render_to_string("risk/report_pdf.html", report_context(alert, self.street_admin))
        self.assertIn(person.name, named)
        self.assertIn(self.c1_counsellor.name, named)  # who acted
        self.assertIn("东湖街道", named)
        # A role that cannot open files (here: an auditor of the city) gets a case number.
        withheld = render_to_string("risk/report_pdf.html", report_context(alert, self.auditor))
        self.assertNotIn(person.name, withheld)
        self.assertIn(f"#{alert.pk.hex[:8].upper()}", withheld)
        pdf = self.client_for(self.street_admin).get(f"/risk/alerts/{alert.pk}/report.pdf")
        self.assertTrue(pdf.content.startswith(b"%PDF"))

    def test_response_page_for_the_city_administrator_only(self):
        client = self.client_for(self.city_admin)
        page = client.get("/risk/response/")
        self.assertContains(page, "level1-ack_minutes")
        data = {}
        for level, row in response.DEFAULT_MATRIX.items():
            data.update(
                {
                    f"level{level}-alert": "on" if row.alert else "",
                    f"level{level}-ack_minutes": row.ack_minutes,
                    f"level{level}-notify_team": "on" if row.notify_team else "",
                    f"level{level}-notify_street": "on" if row.notify_street else "",
                    f"level{level}-action": row.action,
                    f"level{level}-followup_days": row.followup_days,
                }
            )
        data["city"] = self.demo.city.pk
        bad = client.post("/risk/response/", data | {"level2-followup_days": 999})
        self.assertEqual(bad.status_code, 200)
        saved = client.post("/risk/response/", data | {"level1-ack_minutes": 10})
        self.assertEqual(saved.status_code, 302)
        self.assertEqual(actions.response_for(self.c1, 1).ack_minutes, 10)
        self.assertEqual(
            self.client_for(self.c1_counsellor).get("/risk/response/").status_code, 403
        )


def test_anonymous_results_raise_a_signal_but_no_alert(db):
    from xinqiao.ops.demo import build_demo_city

    demo = build_demo_city()
    campaign = assessment_actions.create_campaign(
        acting_user=demo.users["c1_counsellor"],
        unit=demo.communities[0],
        title="匿名",
        instrument="phq9",
        closes_on=timezone.localdate() + timedelta(days=3),
        anonymous=True,
        expected_count=10,
    )
    invitation = campaign.invitations.get()
    assessment = assessment_actions.begin_self_assessment(
        invitation=invitation, respondent="self", resume_key="k"
    )
    for number, value in enumerate(PHQ9_ITEM9_NEARLY_EVERY_DAY, start=1):
        assessment = assessment_actions.save_answer(
            assessment=assessment, number=number, value=value
        )
    assessment_actions.finish_self_assessment(assessment=assessment)
    assert RiskSignal.objects.get().person is None
    assert not Alert.objects.exists()
    assert Client().get("/").status_code == 302


def test_risk_doc_is_generated_from_the_rules_and_the_matrix():
    from xinqiao.risk.docs import render_markdown
    from xinqiao.risk.management.commands.risk_doc import DOC

    assert DOC.read_text(encoding="utf-8") == render_markdown(), "run `xinqiao risk_doc`"


# --- severe mental disorders -----------------------------------------------------------------


def smi_findings(**changes):
    from xinqiao.risk import smi

    base = {
        "grade": 0,
        "symptoms": "none",
        "insight": "good",
        "social_function": "good",
        "adverse_reaction": "none",
        "physical_illness": "none",
    }
    return smi.Findings(**(base | changes))


@pytest.mark.parametrize(
    ("changes", "status", "days", "refer"),
    [
        ({}, "stable", 90, False),
        ({"social_function": "fair"}, "stable", 90, False),
        ({"grade": 1}, "basically_stable", 14, False),
        ({"grade": 2}, "basically_stable", 14, False),
        ({"symptoms": "present"}, "basically_stable", 14, False),
        ({"insight": "partial"}, "basically_stable", 14, False),
        ({"social_function": "poor"}, "basically_stable", 14, False),
        ({"grade": 3}, "unstable", 14, True),
        ({"grade": 4}, "unstable", 14, True),
        ({"grade": 5}, "unstable", 14, True),
        ({"symptoms": "marked"}, "unstable", 14, True),
        ({"insight": "none"}, "unstable", 14, True),
        ({"adverse_reaction": "serious"}, "unstable", 14, True),
        ({"physical_illness": "serious"}, "unstable", 14, True),
    ],
)
def test_smi_status_and_interval_follow_the_national_schedule(changes, status, days, refer):
    from xinqiao.risk import smi

    outcome = smi.assess(smi_findings(**changes))
    assert (outcome.status, outcome.next_days, outcome.refer_now) == (status, days, refer)
    assert 365 // max(outcome.next_days, 1) >= smi.MIN_FOLLOWUPS_PER_YEAR  # ≥ 4 a year


class SmiTests(RiskTestCase):
    def test_register_follow_up_and_relapse_to_the_green_channel(self):
        from xinqiao.risk import smi_actions
        from xinqiao.risk.models import SmiPatient

        person = self.person(consent=False)
        client = self.client_for(self.c1_worker)
        page = client.post(
            f"/risk/people/{person.pk}/smi/register/",
            {
                "diagnosis": "schizophrenia",
                "guardian_name": "监护人甲",
                "guardian_phone": "17000000099",
                "custody_1_name": "网格员乙",
                "custody_1_role": "grid_worker",
                "custody_2_name": "民警丙",
                "custody_2_role": "police",
            },
        )
        self.assertRedirects(page, f"/risk/smi/{person.pk}/")
        patient = SmiPatient.objects.get(person=person)
        self.assertEqual(patient.custody.count(), 2)
        self.assertEqual(patient.next_followup_due, timezone.localdate() + timedelta(days=14))
        stable = {
            "on": timezone.localdate().isoformat(),
            "risk_grade": 0,
            "symptoms": "none",
            "insight": "good",
            "social_function": "good",
            "adverse_reaction": "none",
            "physical_illness": "none",
            "compliance": "regular",
            "medication": "利培酮 2mg 每日两次",
        }
        client.post(f"/risk/smi/{person.pk}/followup/", stable)
        patient.refresh_from_db()
        self.assertEqual(
            (patient.status, patient.next_followup_due),
            ("stable", timezone.localdate() + timedelta(days=90)),
        )
        self.assertFalse(Alert.objects.filter(person=person).exists())
        # Relapse: grade 4 — unstable, a crisis signal and alert, and the green channel offered.
        relapse = client.post(
            f"/risk/smi/{person.pk}/followup/",
            stable | {"risk_grade": 4, "compliance": "none"},
            follow=True,
        )
        patient.refresh_from_db()
        self.assertEqual(patient.status, "unstable")
        self.assertEqual(Alert.objects.get(person=person).level, 1)
        self.assertContains(relapse, "?kind=green_channel")
        self.assertEqual(smi_actions.followups_in_last_year(patient, timezone.localdate()), 2)
        # SMI patients are on the key-person list; other communities get 404.
        listed = self.client_for(self.c1_counsellor).get("/risk/key-people/").context["page"]
        self.assertIn(person.pk, [p.pk for p in listed])
        self.assertEqual(
            self.client_for(self.c2_counsellor).get(f"/risk/smi/{person.pk}/").status_code, 404
        )

    def test_bad_follow_ups_are_refused_by_field(self):
        from xinqiao.risk import smi_actions

        person = self.person(consent=False)
        patient = smi_actions.register_smi_patient(
            acting_user=self.c1_worker, person=person, diagnosis="bipolar"
        )
        values = {
            "on": timezone.localdate(),
            "risk_grade": 0,
            "symptoms": "none",
            "insight": "good",
            "social_function": "good",
            "adverse_reaction": "none",
            "physical_illness": "none",
            "compliance": "regular",
        }
        for field, bad in (
            ("risk_grade", 7),
            ("insight", "maybe"),
            ("on", timezone.localdate() + timedelta(days=1)),
        ):
            with pytest.raises(ValidationError) as info:
                smi_actions.record_smi_followup(
                    acting_user=self.c1_worker, patient=patient, **(values | {field: bad})
                )
            self.assertIn(field, info.value.message_dict)
        with pytest.raises(ValidationError):
            smi_actions.register_smi_patient(
                acting_user=self.c1_worker, person=person, diagnosis="bipolar"
            )
        with pytest.raises(PermissionDenied):
            smi_actions.record_smi_followup(acting_user=self.c1_grid, patient=patient, **values)
