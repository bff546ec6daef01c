"""Anonymous self-assessment on the public portal (issue #8 item 4): the questionnaires
offered, consent (under 14 with a guardian), one question per screen, resume, the kind
result, and the call-back a serious result offers (an urgent item on the hotline's queue)."""

from __future__ import annotations

import re
from unittest import mock

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.urls import reverse

from xinqiao.assessments import actions
from xinqiao.assessments.models import Assessment, AssessmentChannel, AssessmentStatus
from xinqiao.hotline.models import CallbackRequest, CallbackSource
from xinqiao.instruments.library import get
from xinqiao.portal import sms
from xinqiao.portal.assess import PORTAL_INSTRUMENTS
from xinqiao.portal.models import AccountAssessment, PortalAccount, PortalPage, PortalVisit
from xinqiao.test import PersonaTestCase

PHQ9_CRITICAL = [1, 2, 1, 2, 1, 1, 2, 1, 1]  # 12, moderate, item 9 = 1 (critical: serious)
PHQ9_SEVERE = [3, 3, 3, 3, 3, 3, 3, 3, 0]  # 24, severe, no critical item (serious)
PHQ9_MINIMAL = [0, 0, 0, 0, 0, 0, 0, 0, 0]  # 0, minimal
GAD7_MODERATE = [2, 2, 2, 2, 1, 1, 1]  # 11, moderate (group counselling suggested)


class PortalAssessTestCase(PersonaTestCase):
    def setUp(self) -> None:
        cache.clear()
        self.unit = self.c1
        self.ref = str(self.unit.pk)
        # English pages: the Chinese of this part's strings is merged into the catalogue by the
        # lead; the Chinese default is checked with strings already there (ChineseTests).
        self.client = self.visitor()

    def visitor(self, language: str = "en") -> Client:
        return Client(HTTP_ACCEPT_LANGUAGE=language)

    def url(self, name: str, code: str | None = None) -> str:
        args = [self.ref] if code is None else [self.ref, code]
        return reverse(f"portal:{name}", args=args)

    def callback_form(self, code: str) -> str:
        return f'action="{self.url("assess_callback", code)}"'

    def begin(self, client: Client | None = None, code: str = "phq9", **data):
        client = client or self.client
        form = {"under_14": "no", "respondent": "self", "agree": "on", **data}
        return client.post(self.url("assess_begin", code), form)

    def answer_all(self, answers, client: Client | None = None, code: str = "phq9"):
        client = client or self.client
        response = None
        for number, value in enumerate(answers, start=1):
            response = client.post(
                self.url("assess_answer", code), {"number": number, "answer": value}
            )
            self.assertEqual(response.status_code, 302)
        # The optional questions after them (PHQ-9 item 10, difficulty) are skipped.
        for number in range(len(answers) + 1, len(get(code).items) + 1):
            response = client.post(self.url("assess_answer", code), {"number": number, "skip": "1"})
        return response

    def take(self, answers, client: Client | None = None, code: str = "phq9"):
        self.assertEqual(self.begin(client, code).status_code, 302)
        done = self.answer_all(answers, client, code)
        self.assertRedirects(done, self.url("assess_result", code), fetch_redirect_response=False)
        return Assessment.objects.get(channel=AssessmentChannel.PORTAL, instrument=code)


class ListAndConsentTests(PortalAssessTestCase):
    def test_the_list_shows_only_the_questionnaires_free_for_public_self_use(self):
        response = self.client.get(self.url("assess"))
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        for code in PORTAL_INSTRUMENTS:
            self.assertIn(self.url("assess_start", code), body)
        # Licence unverified (SAS, SDS, AIS, PSS-10) or for staff settings (ASQ): not offered.
        for code in ("sas", "sds", "ais", "pss10", "asq", "pcl5", "phq15"):
            self.assertNotIn(self.url("assess_start", code), body)
            self.assertEqual(self.client.get(self.url("assess_start", code)).status_code, 404)
        self.assertIn("10 questions, about 4 minutes", body)
        self.assertIn("mood, sleep, energy", body)
        self.assertIn("For ages 18 and over", body)
        self.assertIn("For ages 11 to 17", body)
        self.assertIn('href="tel:12356"', body)

    def test_consent_says_what_happens_to_the_answers_and_asks_nothing_personal(self):
        body = self.client.get(self.url("assess_start", "phq9")).content.decode()
        self.assertIn("for this unit's statistics", body)
        self.assertIn("Nobody will contact you unless you ask us to.", body)
        self.assertIn("Are you under 14?", body)
        self.assertNotIn('type="tel"', body)
        self.assertNotIn('type="date"', body)
        # Every radio has a label; each question group is a fieldset with a legend.
        self.assertEqual(body.count("<fieldset"), body.count("<legend>"))
        radios = re.findall(r'<input type="radio"[^>]* id="([^"]+)"', body)
        self.assertEqual(len(radios), 4)
        for radio in radios:
            self.assertIn(f'<label for="{radio}">', body)

    def test_without_agreeing_nothing_is_started_and_the_field_is_named(self):
        response = self.begin(agree="")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Please tick the box to agree before you start.", response.content.decode())
        self.assertFalse(Assessment.objects.exists())

    def test_under_14_needs_a_parent_or_guardian(self):
        response = self.begin(under_14="yes", respondent="self")
        self.assertEqual(response.status_code, 400)
        self.assertIn("please ask your parent or guardian", response.content.decode())
        self.assertFalse(Assessment.objects.exists())
        response = self.begin(under_14="", respondent="self")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Please say whether you are under 14.", response.content.decode())
        self.assertRedirects(
            self.begin(under_14="yes", respondent="guardian"),
            self.url("assess_start", "phq9"),
            fetch_redirect_response=False,
        )
        assessment = Assessment.objects.get()
        self.assertEqual(assessment.respondent, "guardian")
        # The action holds the rule too, whatever the form says.
        with self.assertRaises(actions.ValidationError) as raised:
            actions.begin_portal_assessment(
                unit=self.unit,
                instrument="phq9",
                respondent="self",
                under_14=True,
                resume_key="k" * 24,
            )
        self.assertIn("respondent", raised.exception.message_dict)

    def test_a_portal_assessment_is_anonymous_and_outside_any_campaign(self):
        self.begin()
        assessment = Assessment.objects.get()
        self.assertEqual(
            (assessment.person, assessment.invitation, assessment.campaign, assessment.unit),
            (None, None, None, self.unit),
        )
        self.assertEqual((assessment.mode, assessment.channel), ("self_service", "portal"))
        # The database holds the invariant: anonymous only in a campaign or on the portal,
        # and a portal assessment never on a file.
        with self.assertRaises(IntegrityError), transaction.atomic():
            Assessment.objects.filter(pk=assessment.pk).update(channel="")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Assessment.objects.filter(pk=assessment.pk).update(mode="staff")


class AnsweringTests(PortalAssessTestCase):
    def test_one_question_per_screen_back_and_resume_after_closing_the_page(self):
        self.begin()
        page = self.client.get(self.url("assess_start", "phq9")).content.decode()
        self.assertIn("Question 1 of 10", page)
        self.assertIn("<legend>", page)
        self.assertEqual(page.count('type="radio"'), 4)
        for number, value in enumerate([1, 2, 3], start=1):
            self.client.post(self.url("assess_answer", "phq9"), {"number": number, "answer": value})
        self.client.post(self.url("assess_back", "phq9"))
        page = self.client.get(self.url("assess_start", "phq9")).content.decode()
        self.assertIn("Question 3 of 10", page)
        self.assertIn('value="3" checked', page)
        # The page is closed; the same phone comes back later: the cookie finds the answers.
        cookie = self.client.cookies["xq_pa_phq9"]
        self.assertEqual(cookie["path"], self.url("assess_start", "phq9"))
        self.assertTrue(cookie["httponly"])
        later = self.visitor()
        later.cookies["xq_pa_phq9"] = cookie.value
        page = later.get(self.url("assess_start", "phq9")).content.decode()
        self.assertIn("Question 3 of 10", page)
        # Another phone starts afresh, at the consent screen.
        other = self.visitor().get(self.url("assess_start", "phq9")).content.decode()
        self.assertIn("Before you start", other)

    def test_values_that_are_not_an_option_are_refused_and_never_scored(self):
        self.begin()
        for bad in ({"number": 1, "answer": 7}, {"number": 1, "answer": "x"}, {"number": 1}):
            response = self.client.post(self.url("assess_answer", "phq9"), bad)
            self.assertEqual(response.status_code, 400)
            self.assertIn("Choose one of the answers.", response.content.decode())
        response = self.client.post(self.url("assess_answer", "phq9"), {"number": 5, "answer": 1})
        self.assertEqual(response.status_code, 400)
        # A required question cannot be skipped.
        response = self.client.post(self.url("assess_answer", "phq9"), {"number": 1, "skip": "1"})
        self.assertEqual(response.status_code, 400)
        assessment = Assessment.objects.get()
        self.assertEqual(
            (assessment.status, assessment.total), (AssessmentStatus.IN_PROGRESS, None)
        )
        self.assertEqual(assessment.answers, [None] * 10)

    def test_the_score_is_computed_on_the_server(self):
        self.begin()
        for number, value in enumerate(PHQ9_MINIMAL, start=1):
            self.client.post(
                self.url("assess_answer", "phq9"),
                {"number": number, "answer": value, "total": 27, "band_code": "severe"},
            )
        self.client.post(self.url("assess_answer", "phq9"), {"number": 10, "skip": "1"})
        assessment = Assessment.objects.get()
        self.assertEqual(assessment.status, AssessmentStatus.COMPLETED)
        self.assertEqual((assessment.total, assessment.band_code), (0, "minimal"))

    def test_without_the_cookie_answers_go_nowhere(self):
        self.begin()
        stranger = self.visitor()
        response = stranger.post(self.url("assess_answer", "phq9"), {"number": 1, "answer": 3})
        self.assertRedirects(
            response, self.url("assess_start", "phq9"), fetch_redirect_response=False
        )
        self.assertEqual(Assessment.objects.get().answers[0], None)

    @override_settings(XINQIAO_SELF_SERVICE_STARTS_PER_HOUR=2)
    def test_a_script_starting_assessments_is_stopped(self):
        for _ in range(2):
            self.assertEqual(self.begin(self.visitor()).status_code, 302)
        self.assertEqual(self.begin(self.visitor()).status_code, 429)
        self.assertEqual(Assessment.objects.count(), 2)

    @override_settings(XINQIAO_SELF_SERVICE_RATE_PER_MINUTE=5)
    def test_a_hammered_page_answers_429(self):
        statuses = [self.client.get(self.url("assess")).status_code for _ in range(7)]
        self.assertEqual(statuses[:5], [200] * 5)
        self.assertEqual(statuses[-1], 429)


class ResultTests(PortalAssessTestCase):
    def test_a_serious_result_offers_a_call_back_and_the_phones_never_a_score(self):
        self.unit.service_phone = "021-55550100"
        self.unit.save(update_fields=["service_phone"])
        assessment = self.take(PHQ9_CRITICAL)
        self.assertEqual(assessment.critical_items, [9])
        body = self.client.get(self.url("assess_result", "phq9")).content.decode()
        self.assertIn(self.callback_form("phq9"), body)
        self.assertIn('type="tel"', body)
        self.assertIn('href="tel:12356"', body)
        self.assertIn('href="tel:021-55550100"', body)
        self.assertIn('<a class="button danger" href="tel:110">', body)
        self.assertIn('<a class="button danger" href="tel:120">', body)
        help_url = reverse("portal:help", args=[self.ref])
        self.assertIn(f'<p><a href="{help_url}">More ways to get help now</a></p>', body)
        # In the page's content the call-back comes first, then the big phone buttons.
        content = body[body.index("<h1>") :]
        callback, call = (
            self.url("assess_callback", "phq9"),
            'class="button primary block big" href="tel:12356"',
        )
        self.assertLess(content.index(callback), content.index(call))
        self.assertLess(content.index(call), content.index('href="tel:110"'))
        # No score, no clinical label.
        for label in ("Moderate", "Severe", "Your result:", ">12<", "score"):
            self.assertNotIn(label, body)
        self.assertIn("Would you like a counsellor to call you now?", body)

    def test_the_most_severe_band_without_a_critical_item_is_serious_too(self):
        self.take(PHQ9_SEVERE)
        body = self.client.get(self.url("assess_result", "phq9")).content.decode()
        self.assertIn(self.callback_form("phq9"), body)
        self.assertNotIn("Severe", body)
        self.assertNotIn("Your result:", body)

    def test_posting_the_call_back_puts_it_on_the_hotline_queue_once(self):
        assessment = self.take(PHQ9_CRITICAL)
        response = self.client.post(
            self.url("assess_callback", "phq9"), {"phone": "13800000000", "note": "晚上睡不着"}
        )
        self.assertRedirects(
            response,
            self.url("assess_result", "phq9") + "?asked=1",
            fetch_redirect_response=False,
        )
        callback = CallbackRequest.objects.get()
        self.assertEqual(
            (callback.assessment, callback.source, callback.unit, callback.status),
            (assessment, CallbackSource.SELF_ASSESSMENT, self.unit, "waiting"),
        )
        self.assertEqual(callback.phone, "13800000000")
        body = self.client.get(response["Location"]).content.decode()
        self.assertIn("We will call you back.", body)
        self.assertIn("A counsellor will call you within 15 minutes.", body)
        self.assertNotIn(self.callback_form("phq9"), body)
        # A second request says it was already asked for, and writes nothing.
        again = self.client.post(self.url("assess_callback", "phq9"), {"phone": "13900000000"})
        self.assertEqual(again.status_code, 400)
        self.assertIn("You have already asked for a call-back", again.content.decode())
        self.assertEqual(CallbackRequest.objects.count(), 1)

    def test_call_backs_share_the_crisis_paths_budget_per_address(self):
        self.take(PHQ9_CRITICAL)
        with mock.patch("xinqiao.portal.core.CALLBACKS_PER_HOUR", 2):
            for _ in range(2):  # two mistyped numbers use the budget up
                self.client.post(self.url("assess_callback", "phq9"), {"phone": "12ab"})
            response = self.client.post(
                self.url("assess_callback", "phq9"), {"phone": "13800000000"}
            )
        self.assertEqual(response.status_code, 429)
        body = response.content.decode()
        self.assertIn("We have already received several requests", body)
        self.assertIn('href="tel:12356"', body)
        self.assertNotIn(self.callback_form("phq9"), body)
        self.assertFalse(CallbackRequest.objects.exists())

    def test_a_bad_phone_is_named_and_nothing_is_written(self):
        self.take(PHQ9_CRITICAL)
        for phone, message in (
            ("", "Enter the number we should call."),
            ("12ab", "This does not look like a phone number."),
        ):
            response = self.client.post(
                self.url("assess_callback", "phq9"), {"phone": phone, "note": "想聊聊"}
            )
            self.assertEqual(response.status_code, 400)
            body = response.content.decode()
            self.assertIn(message, body)
            self.assertIn('aria-invalid="true"', body)
            self.assertIn("想聊聊", body)  # what was written is kept on the page
        self.assertFalse(CallbackRequest.objects.exists())

    def test_another_browser_cannot_see_the_result_or_ask_for_its_call_back(self):
        self.take(PHQ9_CRITICAL)
        stranger = self.visitor()
        self.assertEqual(stranger.get(self.url("assess_result", "phq9")).status_code, 404)
        response = stranger.post(self.url("assess_callback", "phq9"), {"phone": "13800000000"})
        self.assertEqual(response.status_code, 404)
        self.assertFalse(CallbackRequest.objects.exists())
        # The same cookie on another unit's portal finds nothing either.
        cookie = self.client.cookies["xq_pa_phq9"].value
        elsewhere = self.visitor()
        elsewhere.cookies["xq_pa_phq9"] = cookie
        other = reverse("portal:assess_callback", args=[str(self.c2.pk), "phq9"])
        self.assertEqual(elsewhere.post(other, {"phone": "13800000000"}).status_code, 404)
        self.assertFalse(CallbackRequest.objects.exists())

    def test_no_call_back_for_an_unfinished_or_a_mild_result(self):
        self.begin()
        response = self.client.post(self.url("assess_callback", "phq9"), {"phone": "13800000000"})
        self.assertEqual(response.status_code, 404)
        self.answer_all(PHQ9_MINIMAL)
        body = self.client.get(self.url("assess_result", "phq9")).content.decode()
        self.assertNotIn(self.callback_form("phq9"), body)
        self.assertNotIn('type="tel"', body)
        self.assertIn("Your result: <strong>Minimal</strong>", body)  # a mild one may say it
        self.assertIn('href="tel:12356"', body)
        response = self.client.post(self.url("assess_callback", "phq9"), {"phone": "13800000000"})
        self.assertEqual(response.status_code, 404)
        self.assertFalse(CallbackRequest.objects.exists())
        with self.assertRaises(actions.ValidationError):
            actions.request_assessment_callback(
                assessment=Assessment.objects.get(), phone="13800000000"
            )
        self.assertFalse(CallbackRequest.objects.exists())

    def test_a_moderate_result_suggests_booking_and_the_mailbox(self):
        self.take(GAD7_MODERATE, code="gad7")
        body = self.client.get(self.url("assess_result", "gad7")).content.decode()
        self.assertNotIn(self.callback_form("gad7"), body)
        self.assertIn("Talking with a counsellor can help.", body)
        self.assertNotIn("Your result:", body)  # no label for a moderate result either
        self.assertNotIn("lessons", body)

    def test_a_mild_result_points_to_the_lessons(self):
        self.take(PHQ9_MINIMAL)
        body = self.client.get(self.url("assess_result", "phq9")).content.decode()
        self.assertIn("Short lessons on sleep, relaxation and coping with worry", body)
        self.assertNotIn("Talking with a counsellor can help.", body)

    def test_a_finished_questionnaire_can_be_taken_again(self):
        first = self.take(PHQ9_MINIMAL)
        self.assertRedirects(
            self.client.get(self.url("assess_start", "phq9")),
            self.url("assess_result", "phq9"),
            fetch_redirect_response=False,
        )
        page = self.client.get(self.url("assess_start", "phq9") + "?again=1").content.decode()
        self.assertIn("Before you start", page)
        self.assertIn("You have already finished this questionnaire on this phone.", page)
        self.begin()
        second = Assessment.objects.exclude(pk=first.pk).get()
        self.assertEqual(second.status, AssessmentStatus.IN_PROGRESS)


class QualityTests(PortalAssessTestCase):
    def test_every_page_is_light_and_counted_for_the_unit_without_a_trace_of_the_visitor(self):
        pages = [self.client.get(self.url("assess"))]
        pages.append(self.client.get(self.url("assess_start", "phq9")))
        self.begin()
        pages.append(self.client.get(self.url("assess_start", "phq9")))
        self.answer_all(PHQ9_CRITICAL)
        pages.append(self.client.get(self.url("assess_result", "phq9")))
        for response in pages:
            self.assertEqual(response.status_code, 200)
            self.assertLess(len(response.content), 100_000)  # issue #8 item 6, before media
            self.assertIn("no-cache", response["Cache-Control"])
        visits = PortalVisit.objects.get(unit=self.unit, page=PortalPage.ASSESS)
        self.assertEqual(visits.count, 4)


class AccountTests(PortalAssessTestCase):
    def sign_in(self) -> None:
        sms.sent.clear()
        self.client.post(reverse("portal:me_sign_in", args=[self.ref]), {"phone": "13800000001"})
        code = sms.sent[-1].code
        self.client.post(reverse("portal:me_code", args=[self.ref]), {"code": code})

    def test_a_signed_in_visitor_keeps_the_result_in_their_history(self):
        self.sign_in()
        assessment = self.take(PHQ9_MINIMAL)
        linked = AccountAssessment.objects.get()
        self.assertEqual(linked.assessment, assessment)
        self.assertEqual(linked.account.phone, "13800000001")

    def test_an_anonymous_visitor_leaves_nothing_in_any_history(self):
        self.take(PHQ9_MINIMAL)
        self.assertFalse(AccountAssessment.objects.exists())
        self.assertFalse(PortalAccount.objects.exists())

    def test_remember_is_called_once_when_the_last_answer_finishes_it(self):
        with mock.patch("xinqiao.portal.accounts.remember_assessment") as remember:
            self.sign_in()
            self.take(PHQ9_MINIMAL)
        remember.assert_called_once()
        self.assertEqual(remember.call_args.kwargs["assessment"].status, "completed")


class ChineseTests(PortalAssessTestCase):
    def test_the_portal_speaks_chinese_by_default(self):
        client = self.visitor("zh-hans")
        self.begin(client)
        page = client.get(self.url("assess_start", "phq9")).content.decode()
        self.assertIn("第 1 题，共 10 题", page)
        self.assertIn("做事时提不起劲或没有兴趣", page)
        response = client.post(self.url("assess_answer", "phq9"), {"number": 1, "answer": 9})
        self.assertIn("请从选项中选择一个答案。", response.content.decode())
