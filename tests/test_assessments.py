"""Assessments (issue #4 items 3–7): staff-administered results with consent first, the result
page, risk signals, self-service through links (consent, one question per screen, resume,
kind result, expiry, single use, rate limits), campaigns with small-cell suppression, QR codes
and printable sheets, the API and FHIR QuestionnaireResponse."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone

from tests.people_data import resident_id
from xinqiao.assessments import actions
from xinqiao.assessments.models import Assessment, AssessmentStatus, Invitation
from xinqiao.people import actions as people_actions
from xinqiao.people.access import ConsentMissing
from xinqiao.people.models import EventKind, PersonEvent
from xinqiao.risk.models import RiskSignal
from xinqiao.test import PersonaTestCase

PHQ9_MODERATE = [1, 2, 1, 2, 1, 1, 2, 1, 1]  # 12, moderate, item 9 = 1 (critical)
PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]  # 6, mild, no critical item


class AssessmentTestCase(PersonaTestCase):
    def setUp(self) -> None:
        cache.clear()

    def person(self, *, unit=None, serial=1, born=date(1980, 5, 17), consent=True, **extra):
        person = people_actions.register_person(
            acting_user=self.c1_counsellor,
            unit=unit or self.c1,
            name=f"测评{serial}",
            id_number=resident_id(born, serial),
            **extra,
        )
        if consent:
            adult = (person.age(timezone.localdate()) or 30) >= 14
            people_actions.give_consent(
                acting_user=self.c1_counsellor
                if (unit or self.c1) == self.c1
                else self.c2_counsellor,
                person=person,
                purpose="assessment",
                given_by="self" if adult else "guardian",
                guardian_name="" if adult else "监护人",
                method="signed_paper",
                given_on=timezone.localdate(),
            )
        return person

    def record(self, person, answers=PHQ9_MODERATE, instrument="phq9", user=None):
        return actions.record_assessment(
            acting_user=user or self.c1_counsellor,
            person=person,
            instrument=instrument,
            answers=answers,
        )


class StaffAssessmentTests(AssessmentTestCase):
    def test_no_assessment_without_consent(self):
        person = self.person(consent=False)
        with pytest.raises(ConsentMissing):
            self.record(person)
        self.assertFalse(Assessment.objects.exists())
        page = self.client_for(self.c1_counsellor).get(f"/assessments/people/{person.pk}/new/phq9/")
        self.assertContains(page, "同意")
        self.assertNotContains(page, 'name="item_1"')

    def test_result_is_scored_on_the_server_with_timeline_and_signal(self):
        person = self.person()
        assessment = self.record(person)
        self.assertEqual(assessment.status, AssessmentStatus.COMPLETED)
        self.assertEqual((assessment.total, assessment.band_code), (12, "moderate"))
        self.assertEqual(assessment.critical_items, [9])
        self.assertEqual(assessment.intervention, "group")
        kinds = set(PersonEvent.objects.filter(person=person).values_list("kind", flat=True))
        self.assertIn(EventKind.ASSESSMENT, kinds)
        self.assertIn(EventKind.RISK_SIGNAL, kinds)
        signal = RiskSignal.objects.get(person=person)
        self.assertEqual(signal.level, 2)  # risk rule suicide_risk_item
        self.assertEqual(signal.critical_items, [9])

    def test_a_mild_result_raises_no_signal_and_the_most_severe_band_does(self):
        person = self.person()
        self.record(person, PHQ9_MILD)
        self.assertFalse(RiskSignal.objects.exists())
        gad7 = self.record(person, [3, 3, 3, 3, 3, 3, 0], instrument="gad7")  # 18, severe
        signal = RiskSignal.objects.get(object_id=str(gad7.pk))
        self.assertEqual(signal.level, 3)  # risk rule most_severe_band

    def test_bad_answers_name_the_item_and_write_nothing(self):
        person = self.person()
        with pytest.raises(ValidationError) as info:
            self.record(person, [0, 0, 7, 0, 0, 0, 0, 0, 0])
        self.assertIn("3", info.value.message_dict["answers"][0])
        self.assertFalse(Assessment.objects.exists())

    def test_staff_form_with_radios_and_quick_entry(self):
        person = self.person()
        client = self.client_for(self.c1_counsellor)
        url = f"/assessments/people/{person.pk}/new/phq9/"
        page = client.get(url)
        self.assertContains(page, 'name="item_9"')
        self.assertContains(page, "有不如死掉或用某种方式伤害自己的念头")
        missing = client.post(url, {f"item_{n}": 0 for n in range(1, 9)})
        self.assertEqual(missing.status_code, 200)
        self.assertContains(missing, "请选择")
        data = {f"item_{n}": v for n, v in enumerate(PHQ9_MODERATE, start=1)}
        response = client.post(url, data)
        assessment = Assessment.objects.get(person=person)
        self.assertRedirects(response, f"/assessments/{assessment.pk}/")
        quick = client.post(url, {"quick": "111111000"})
        self.assertEqual(quick.status_code, 302)
        self.assertEqual(Assessment.objects.filter(person=person, total=6).count(), 1)

    def test_result_page_history_and_404_for_other_community(self):
        person = self.person()
        first = self.record(person, PHQ9_MILD)
        second = self.record(person)
        client = self.client_for(self.c1_counsellor)
        page = client.get(f"/assessments/{second.pk}/").content.decode()
        self.assertIn("中度", page)
        self.assertIn("团体", page)  # suggested intervention: group counselling
        self.assertIn('class="critical"', page)
        self.assertIn(f"/assessments/{first.pk}/", page)  # history
        self.assertIn('data-chart="history-data"', page)
        self.assertEqual(
            self.client_for(self.c2_counsellor).get(f"/assessments/{second.pk}/").status_code, 404
        )
        # Grid workers register and report people; they do not read scores.
        self.assertEqual(
            self.client_for(self.c1_grid).get(f"/assessments/{second.pk}/").status_code, 404
        )
        file_page = self.client_for(self.c1_grid).get(f"/people/{person.pk}/").content.decode()
        self.assertNotIn('id="assessments"', file_page)
        file_page = client.get(f"/people/{person.pk}/").content.decode()
        self.assertIn('id="assessments"', file_page)
        self.assertIn('id="risk"', file_page)

    def test_the_file_shows_the_change_from_the_first_result_to_the_latest(self):
        person = self.person()
        client = self.client_for(self.c1_counsellor)
        self.record(person, answers=[1, 1, 1, 1, 1, 1, 1, 1, 0])  # 8
        file_page = client.get(f"/people/{person.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(file_page, "Change from the first result")  # one result only
        with time_machine.travel(timezone.now() + timedelta(days=30)):
            self.record(person, answers=[3, 3, 2, 2, 2, 2, 2, 2, 0])  # 18: +10
        with time_machine.travel(timezone.now() + timedelta(days=60)):
            self.record(person, answers=[2, 2, 2, 2, 2, 2, 2, 2, 0])  # 16: the latest
        file_page = client.get(f"/people/{person.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(file_page, "Change from the first result to the latest")
        self.assertContains(file_page, "<td>+8</td>", html=False)
        self.assertContains(file_page, "Reliable deterioration")
        self.assertContains(
            self.client_for(self.c1_counsellor).get(
                f"/people/{person.pk}/", HTTP_ACCEPT_LANGUAGE="zh-CN"
            ),
            "可靠恶化",
        )

    def test_withdrawn_result_stays_on_record(self):
        person = self.person()
        assessment = self.record(person)
        client = self.client_for(self.c1_counsellor)
        client.post(f"/assessments/{assessment.pk}/withdraw/", {"reason": "录入错误"})
        assessment.refresh_from_db()
        self.assertEqual(assessment.status, AssessmentStatus.ENTERED_IN_ERROR)
        with pytest.raises(ValidationError):
            actions.mark_entered_in_error(
                acting_user=self.c1_counsellor, assessment=assessment, reason="again"
            )

    def test_transfer_takes_the_results_along(self):
        person = self.person()
        assessment = self.record(person)
        transfer = people_actions.propose_transfer(
            acting_user=self.c1_counsellor, person=person, to_unit=self.c2, reason="搬家"
        )
        people_actions.decide_transfer(
            acting_user=self.c2_counsellor, transfer=transfer, accept=True
        )
        self.assertEqual(
            self.client_for(self.c1_counsellor).get(f"/assessments/{assessment.pk}/").status_code,
            404,
        )
        self.assertEqual(
            self.client_for(self.c2_counsellor).get(f"/assessments/{assessment.pk}/").status_code,
            200,
        )


class ErasureTests(AssessmentTestCase):
    def test_erasure_destroys_the_answers_keeps_the_scores_and_closes_the_links(self):
        person = self.person()
        assessment = self.record(person)
        invitation = actions.invite_person(
            acting_user=self.c1_counsellor, person=person, instrument="gad7"
        )
        people_actions.erase_person(
            acting_user=self.street_admin,
            person=person,
            legal_reason="consent_withdrawn",
            note="申请编号 1",
        )
        assessment.refresh_from_db()
        self.assertEqual(assessment.answers, [])
        self.assertEqual((assessment.total, assessment.band_code), (12, "moderate"))
        invitation.refresh_from_db()
        self.assertIsNotNone(invitation.revoked_at)
        self.assertEqual(Client().get(f"/s/{invitation.token}/").status_code, 410)


class ApiTests(AssessmentTestCase):
    def test_post_scores_on_the_server_and_ignores_a_client_total(self):
        person = self.person()
        client = self.client_for(self.c1_counsellor)
        response = client.post(
            f"/api/v1/people/{person.pk}/assessments/",
            {"instrument": "phq9", "answers": PHQ9_MODERATE, "total": 0, "severity": "minimal"},
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        for key in (
            "id",
            "instrument",
            "raw",
            "total",
            "severity",
            "subscales",
            "critical_items",
            "flags",
        ):
            self.assertIn(key, body)
        self.assertEqual(body["total"], 12)
        self.assertEqual(body["severity"], {"index": 2, "code": "moderate", "label": "中度"})
        self.assertEqual(body["critical_items"], [9])
        self.assertEqual(body["flags"], ["suicidal_ideation"])
        listed = client.get(f"/api/v1/people/{person.pk}/assessments/").json()
        self.assertEqual(listed["count"], 1)
        fhir = client.get(f"/api/v1/assessments/{body['id']}/fhir").json()
        self.assertEqual(fhir["resourceType"], "QuestionnaireResponse")

    def test_without_consent_409_bad_answer_400_outside_scope_404(self):
        person = self.person(consent=False)
        client = self.client_for(self.c1_counsellor)
        url = f"/api/v1/people/{person.pk}/assessments/"
        refused = client.post(
            url, {"instrument": "phq9", "answers": PHQ9_MILD}, content_type="application/json"
        )
        self.assertEqual(refused.status_code, 409)
        self.assertIn("consent", refused.json())
        consented = self.person(serial=2)
        url = f"/api/v1/people/{consented.pk}/assessments/"
        bad = client.post(
            url,
            {"instrument": "phq9", "answers": [0, 0, 0, 5, 0, 0, 0, 0, 0]},
            content_type="application/json",
        )
        self.assertEqual(bad.status_code, 400)
        self.assertIn("4", bad.json()["answers"][0])
        unknown = client.post(
            url, {"instrument": "nope", "answers": [0]}, content_type="application/json"
        )
        self.assertEqual(unknown.status_code, 400)
        self.assertIn("instrument", unknown.json())
        other = self.client_for(self.c2_counsellor).post(
            url, {"instrument": "phq9", "answers": PHQ9_MILD}, content_type="application/json"
        )
        self.assertEqual(other.status_code, 404)


@pytest.mark.parametrize(
    "code", sorted(__import__("xinqiao.instruments.library", fromlist=["library"]).library())
)
def test_every_questionnaire_response_validates_as_fhir_r4_and_ordinals_add_up(code):
    import random

    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    from xinqiao.instruments.engine import score
    from xinqiao.instruments.fhir import questionnaire_response
    from xinqiao.instruments.library import library

    instrument = library()[code]
    rng = random.Random(code)
    answers = [rng.choice(item.values) for item in instrument.items]
    result = score(instrument, answers)
    for status in ("completed", "in_progress", "entered_in_error"):
        resource = questionnaire_response(
            instrument,
            response_id="a1",
            answers=answers,
            status=status,
            authored="2026-12-01T10:00:00+08:00",
            total=result.total,
            subject="p1",
        )
        parsed = QuestionnaireResponse.model_validate(resource)
        assert parsed.questionnaire.startswith("urn:xinqiao:instrument:")
    scored = {i.number for i in instrument.items if i.scored}
    ordinals = [
        item["answer"][0]["valueCoding"]["extension"][0]["valueDecimal"]
        for item in resource["item"]
        if item["linkId"] != "total" and int(item["linkId"]) in scored
    ]
    assert sum(ordinals) == result.raw  # item scores after reverse scoring
    assert resource["item"][-1]["answer"][0]["valueInteger"] == result.total


def test_questionnaire_ordinals_are_item_scores_after_reverse_scoring():
    from xinqiao.instruments.fhir import questionnaire
    from xinqiao.instruments.library import library

    sds = questionnaire(library()["sds"])
    forward, reverse = sds["item"][0], sds["item"][1]  # SDS item 2 is reverse-scored
    ordinal = [o["extension"][0]["valueDecimal"] for o in reverse["answerOption"]]
    codes = [int(o["valueCoding"]["code"]) for o in reverse["answerOption"]]
    assert (codes, ordinal) == ([1, 2, 3, 4], [4, 3, 2, 1])
    assert [o["extension"][0]["valueDecimal"] for o in forward["answerOption"]] == [1, 2, 3, 4]


def test_age_outside_the_validated_range_is_said():
    from types import SimpleNamespace

    from xinqiao.instruments.library import library

    child = SimpleNamespace(birth_date=date(2015, 1, 1), age=lambda on: 11)
    assert "18" in actions.age_warning(library()["phq9"], child)
    adult = SimpleNamespace(birth_date=date(1980, 1, 1), age=lambda on: 46)
    assert actions.age_warning(library()["phq9"], adult) == ""
    assert "11" in actions.age_warning(library()["phqa"], adult)


class SelfServiceTests(AssessmentTestCase):
    def invite(self, person, **kwargs):
        return actions.invite_person(
            acting_user=self.c1_counsellor, person=person, instrument="phq9", **kwargs
        )

    def take(self, client, token, answers, *, reload_after=None):
        base = f"/s/{token}/"
        for number, value in enumerate(answers, start=1):
            if reload_after == number:
                page = client.get(base)
                self.assertContains(page, f"第 {number} 题")
            response = client.post(base + "answer", {"number": number, "answer": value})
            self.assertEqual(response.status_code, 302, response.content[:500])
        return response

    def test_personal_link_consent_one_question_per_screen_resume_and_kind_result(self):
        person = self.person(consent=False)
        invitation = self.invite(person)
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
        consent_page = client.get(f"/s/{invitation.token}/")
        self.assertContains(consent_page, "自愿")
        self.assertNotContains(consent_page, person.name)
        refused = client.post(f"/s/{invitation.token}/begin", {"respondent": "self"})
        self.assertEqual(refused.status_code, 400)  # "agree" not ticked
        started = client.post(f"/s/{invitation.token}/begin", {"respondent": "self", "agree": "on"})
        self.assertEqual(started.status_code, 302)
        self.assertTrue(people_actions_has_consent(person))
        question = client.get(f"/s/{invitation.token}/")
        self.assertContains(question, "第 1 题，共 10 题")
        self.assertEqual(len(re.findall(r'type="radio"', question.content.decode())), 4)
        # Four answers, then the page is closed: the half-finished assessment is kept, unscored.
        self.take(client, invitation.token, PHQ9_MODERATE[:4])
        half = Assessment.objects.get(invitation=invitation)
        self.assertEqual(
            (half.status, half.total, half.position), (AssessmentStatus.IN_PROGRESS, None, 4)
        )
        self.assertFalse(
            PersonEvent.objects.filter(person=person, kind=EventKind.ASSESSMENT).exists()
        )
        # Back on the same link (here: another device), it resumes at question 5.
        other_device = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
        self.assertContains(other_device.get(f"/s/{invitation.token}/"), "第 5 题")
        client.post(f"/s/{invitation.token}/back")
        self.assertContains(client.get(f"/s/{invitation.token}/"), "第 4 题")
        for number, value in enumerate(PHQ9_MODERATE[3:], start=4):
            client.post(f"/s/{invitation.token}/answer", {"number": number, "answer": value})
        # Item 10 (difficulty) is optional: skipped.
        finished = client.post(f"/s/{invitation.token}/answer", {"number": 10, "skip": "1"})
        self.assertRedirects(finished, f"/s/{invitation.token}/done", fetch_redirect_response=False)
        result = client.get(f"/s/{invitation.token}/done").content.decode()
        # A critical item: no clinical label, the hotline number instead.
        self.assertNotIn("中度", result)
        self.assertIn("12356", result)
        self.assertIn("110", result)
        done = Assessment.objects.get(invitation=invitation)
        self.assertEqual(
            (done.status, done.total, done.answers[9]), (AssessmentStatus.COMPLETED, 12, None)
        )
        self.assertTrue(RiskSignal.objects.filter(person=person).exists())
        # Single use: elsewhere the link only says it was completed (no result shown to
        # whoever else holds it), and it cannot start again.
        again = Client().get(f"/s/{invitation.token}/", follow=True)
        self.assertContains(again, "已经完成", status_code=410)
        self.assertNotContains(again, "谢谢你告诉我们", status_code=410)
        restart = Client().post(
            f"/s/{invitation.token}/begin", {"respondent": "self", "agree": "on"}
        )
        self.assertEqual(restart.status_code, 410)
        self.assertEqual(Assessment.objects.filter(invitation=invitation).count(), 1)
        # The staff side sees it on the file.
        file_page = self.client_for(self.c1_counsellor).get(f"/people/{person.pk}/")
        self.assertContains(file_page, f"/assessments/{done.pk}/")

    def test_a_mild_result_shows_its_label(self):
        person = self.person()
        invitation = self.invite(person)
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
        client.post(f"/s/{invitation.token}/begin", {"respondent": "self", "agree": "on"})
        self.take(client, invitation.token, PHQ9_MILD)
        client.post(f"/s/{invitation.token}/answer", {"number": 10, "skip": "1"})
        self.assertContains(client.get(f"/s/{invitation.token}/done"), "轻度")

    def test_tampered_answers_are_refused_and_never_scored(self):
        person = self.person()
        invitation = self.invite(person)
        client = Client()
        client.post(f"/s/{invitation.token}/begin", {"respondent": "self", "agree": "on"})
        bad = client.post(f"/s/{invitation.token}/answer", {"number": 1, "answer": 9})
        self.assertEqual(bad.status_code, 400)
        ahead = client.post(f"/s/{invitation.token}/answer", {"number": 5, "answer": 1})
        self.assertEqual(ahead.status_code, 400)
        skip_required = client.post(f"/s/{invitation.token}/answer", {"number": 1, "skip": "1"})
        self.assertEqual(skip_required.status_code, 400)
        forged = client.post(
            f"/s/{invitation.token}/answer", {"number": 1, "answer": "x", "total": 0}
        )
        self.assertEqual(forged.status_code, 400)
        self.assertEqual(Assessment.objects.get(invitation=invitation).answers[0], None)

    def test_under_14_needs_a_guardian(self):
        born = timezone.localdate() - timedelta(days=365 * 12)
        child = self.person(serial=3, born=born, consent=False)
        invitation = actions.invite_person(
            acting_user=self.c1_counsellor, person=child, instrument="phqa"
        )
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
        self.assertContains(client.get(f"/s/{invitation.token}/"), "监护人")
        alone = client.post(f"/s/{invitation.token}/begin", {"respondent": "self", "agree": "on"})
        self.assertEqual(alone.status_code, 400)
        nameless = client.post(
            f"/s/{invitation.token}/begin", {"respondent": "guardian", "agree": "on"}
        )
        self.assertEqual(nameless.status_code, 400)
        ok = client.post(
            f"/s/{invitation.token}/begin",
            {"respondent": "guardian", "guardian_name": "家长", "agree": "on"},
        )
        self.assertEqual(ok.status_code, 302)
        consent = child.consents.get()
        self.assertEqual((consent.given_by, consent.method), ("guardian", "on_screen"))

    def test_expired_revoked_and_unknown_links(self):
        person = self.person()
        invitation = self.invite(person, valid_days=1)
        with time_machine.travel(timezone.now() + timedelta(days=3)):
            self.assertEqual(Client().get(f"/s/{invitation.token}/").status_code, 410)
        actions.revoke_invitation(acting_user=self.c1_counsellor, invitation=invitation)
        self.assertEqual(Client().get(f"/s/{invitation.token}/").status_code, 410)
        self.assertEqual(Client().get("/s/not-a-real-token-at-all-000000/").status_code, 404)
        self.assertEqual(Client().get("/s/x/").status_code, 404)

    @override_settings(XINQIAO_SELF_SERVICE_RATE_PER_MINUTE=5)
    def test_a_hammered_link_answers_429(self):
        person = self.person()
        invitation = self.invite(person)
        client = Client()
        statuses = [client.get(f"/s/{invitation.token}/").status_code for _ in range(8)]
        self.assertEqual(statuses[:5], [200] * 5)
        self.assertEqual(statuses[5:], [429] * 3)

    def test_invitation_page_qr_codes_and_printable_sheet(self):
        person = self.person()
        client = self.client_for(self.c1_counsellor)
        created = client.post(
            f"/assessments/people/{person.pk}/invite/", {"instrument": "gad7", "valid_days": 7}
        )
        invitation = Invitation.objects.get(person=person)
        self.assertRedirects(created, f"/assessments/invitations/{invitation.pk}/")
        page = client.get(f"/assessments/invitations/{invitation.pk}/")
        self.assertContains(page, f"/s/{invitation.token}/")
        self.assertContains(page, "<svg")
        png = client.get(f"/assessments/invitations/{invitation.pk}/qr.png")
        self.assertEqual(png["Content-Type"], "image/png")
        self.assertTrue(png.content.startswith(b"\x89PNG"))
        svg = client.get(f"/assessments/invitations/{invitation.pk}/qr.svg")
        self.assertIn(b"<svg", svg.content)
        pdf = client.get(f"/assessments/invitations/{invitation.pk}/sheet.pdf")
        self.assertEqual(pdf["Content-Type"], "application/pdf")
        self.assertTrue(pdf.content.startswith(b"%PDF"))
        self.assertEqual(
            self.client_for(self.c2_counsellor)
            .get(f"/assessments/invitations/{invitation.pk}/")
            .status_code,
            404,
        )
        # The token is a secret: encrypted at rest, found through its blind index.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT token FROM assessments_invitation")
            (stored,) = cursor.fetchone()
        self.assertNotIn(invitation.token, stored)


def people_actions_has_consent(person) -> bool:
    from xinqiao.people.access import has_consent

    return has_consent(person, "assessment")


class CampaignTests(AssessmentTestCase):
    def anonymous_campaign(self, expected=40):
        return actions.create_campaign(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            title="隔离酒店筛查",
            instrument="phq9",
            closes_on=timezone.localdate() + timedelta(days=7),
            anonymous=True,
            expected_count=expected,
        )

    def answer_anonymously(self, token, answers):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
        client.post(f"/s/{token}/begin", {"respondent": "self", "agree": "on"})
        for number, value in enumerate(answers, start=1):
            client.post(f"/s/{token}/answer", {"number": number, "answer": value})
        return client

    def test_anonymous_campaign_counts_and_suppressed_bands(self):
        campaign = self.anonymous_campaign()
        token = campaign.invitations.get().token
        for _ in range(6):
            client = self.answer_anonymously(token, [0] * 9 + [0])
        self.assertContains(client.get(f"/s/{token}/done"), "感谢")
        self.answer_anonymously(token, [*PHQ9_MODERATE, 0])  # one moderate, with item 9
        Client().post(f"/s/{token}/begin", {"respondent": "self", "agree": "on"})  # started only
        page = self.client_for(self.c1_counsellor).get(f"/assessments/campaigns/{campaign.pk}/")
        context = page.context
        self.assertEqual((context["invited"], context["started"], context["completed"]), (40, 8, 7))
        bands = {b["label"]: b["n"] for b in context["bands"]}
        self.assertEqual(bands["无或极轻微"], 6)
        self.assertIsNone(bands["中度"])  # 1 < 5: suppressed
        self.assertEqual(bands["重度"], 0)
        self.assertIsNone(context["critical"])
        # Anonymous answers have no file and are never seen one by one.
        self.assertEqual(
            Assessment.objects.filter(campaign=campaign, person__isnull=True).count(), 8
        )
        listed = self.client_for(self.c1_counsellor).get("/assessments/").context["page"]
        self.assertEqual(listed.paginator.count, 0)
        anonymous = Assessment.objects.filter(campaign=campaign).first()
        self.assertEqual(
            self.client_for(self.c1_counsellor).get(f"/assessments/{anonymous.pk}/").status_code,
            404,
        )
        # The other community does not see the campaign at all.
        self.assertEqual(
            self.client_for(self.c2_counsellor)
            .get(f"/assessments/campaigns/{campaign.pk}/")
            .status_code,
            404,
        )
        poster = self.client_for(self.c1_counsellor).get(
            f"/assessments/campaigns/{campaign.pk}/sheet.pdf"
        )
        self.assertTrue(poster.content.startswith(b"%PDF"))

    def test_each_browser_keeps_its_own_anonymous_assessment(self):
        campaign = self.anonymous_campaign()
        token = campaign.invitations.get().token
        first, second = Client(), Client()
        first.post(f"/s/{token}/begin", {"respondent": "self", "agree": "on"})
        second.post(f"/s/{token}/begin", {"respondent": "self", "agree": "on"})
        first.post(f"/s/{token}/answer", {"number": 1, "answer": 2})
        self.assertEqual(Assessment.objects.filter(campaign=campaign).count(), 2)
        self.assertContains(second.get(f"/s/{token}/"), 'name="number" value="1"')
        self.assertContains(first.get(f"/s/{token}/"), 'name="number" value="2"')

    @override_settings(XINQIAO_SELF_SERVICE_STARTS_PER_HOUR=3)
    def test_a_script_starting_assessments_is_stopped(self):
        campaign = self.anonymous_campaign()
        token = campaign.invitations.get().token
        statuses = [
            Client().post(f"/s/{token}/begin", {"respondent": "self", "agree": "on"}).status_code
            for _ in range(5)
        ]
        self.assertEqual(statuses, [302, 302, 302, 429, 429])

    def test_campaign_with_files_sends_personal_links(self):
        a = self.person(serial=11, consent=False)
        b = self.person(serial=12, consent=False, groups=["student"])
        client = self.client_for(self.c1_counsellor)
        created = client.post(
            "/assessments/campaigns/new/",
            {
                "title": "学生筛查",
                "unit": self.c1.pk,
                "instrument": "phqa",
                "closes_on": (timezone.localdate() + timedelta(days=10)).isoformat(),
                "group": "student",
            },
        )
        self.assertEqual(created.status_code, 302, created.content[:1000])
        invitations = Invitation.objects.filter(campaign__title="学生筛查")
        self.assertEqual([i.person for i in invitations], [b])
        self.assertFalse(Invitation.objects.filter(person=a).exists())
        campaign = invitations.get().campaign
        page = client.get(f"/assessments/campaigns/{campaign.pk}/")
        self.assertContains(page, b.name)
        closed = client.post(f"/assessments/campaigns/{campaign.pk}/close/")
        self.assertEqual(closed.status_code, 302)
        self.assertEqual(Client().get(f"/s/{invitations.get().token}/").status_code, 410)

    def test_bad_campaigns_are_refused_with_the_field_named(self):
        client = self.client_for(self.c1_counsellor)
        base = {
            "title": "测试",
            "unit": self.c1.pk,
            "instrument": "phq9",
            "closes_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "anonymous": "on",
            "expected_count": 10,
        }
        past = client.post("/assessments/campaigns/new/", base)
        self.assertIn("closes_on", past.context["form"].errors)
        no_count = client.post(
            "/assessments/campaigns/new/",
            base | {"closes_on": timezone.localdate().isoformat(), "expected_count": ""},
        )
        self.assertIn("expected_count", no_count.context["form"].errors)
        other_unit = client.post("/assessments/campaigns/new/", base | {"unit": self.c2.pk})
        self.assertIn("unit", other_unit.context["form"].errors)


class SignalDispatchTests(AssessmentTestCase):
    def test_subscribers_get_each_committed_signal_once_through_a_database_job(self):
        from xinqiao.ops.jobs import wait_until_done
        from xinqiao.ops.models import Job
        from xinqiao.risk import actions as risk_actions

        received = []
        risk_actions.subscribe(received.append)
        try:
            person = self.person()
            assessment = self.record(person)
            job = Job.objects.get(kind="risk.dispatch_signal")
            self.assertEqual(job.payload, {"signal": str(RiskSignal.objects.get().pk)})
            self.assertEqual(received, [])  # handed over by a worker, not in the request
            wait_until_done()
            self.assertEqual([s.object_id for s in received], [str(assessment.pk)])
            self.assertFalse(risk_actions.dispatch(received[0].pk))  # already handed over
            self.assertIsNotNone(RiskSignal.objects.get().dispatched_at)
        finally:
            risk_actions.SUBSCRIBERS.remove(received.append)

    def test_a_rolled_back_result_leaves_no_signal_and_no_job(self):
        from django.db import transaction

        from xinqiao.ops.models import Job
        from xinqiao.risk import actions as risk_actions

        received = []
        risk_actions.subscribe(received.append)
        try:
            person = self.person()
            with self.assertRaises(RuntimeError), transaction.atomic():
                self.record(person)
                self.assertTrue(Job.objects.exists())
                raise RuntimeError("the request failed after scoring")
        finally:
            risk_actions.SUBSCRIBERS.remove(received.append)
        self.assertFalse(RiskSignal.objects.exists())
        self.assertFalse(Job.objects.exists())
