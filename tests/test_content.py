"""Education (issue #8 item 3, R-EDU): sanitising hostile rich text, lesson upload refusals
(a 2 GB Content-Length, a lying one, a file that is not media), byte-exact range requests,
scheduled publication, scope (another community's editor gets 404), the built-in edit rule,
the starter set in both languages, the view and completion counters, field messages."""

from __future__ import annotations

import io
import wave
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from xinqiao.content import actions, public
from xinqiao.content.actions import ArticleText
from xinqiao.content.media import parse_range, sniff
from xinqiao.content.models import Article, ArticleStat, Kind, Status, Topic
from xinqiao.content.sanitise import clean_html
from xinqiao.test import PersonaTestCase

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
HOSTILE = (
    '<p onclick="steal()">你好<script>alert(1)</script><style>p{}</style>'
    '<a href="javascript:alert(2)">坏链接</a><a href="https://example.org/x" target="_blank">好</a>'
    '<img src=x onerror="alert(3)"><iframe src="https://evil.example"></iframe>'
    '<h2 style="color:red">标题</h2><a href="tel:12356">电话</a></p>'
)


def wav_bytes(seconds: float = 0.2, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(bytes(range(256)) * int(rate * seconds / 256 + 1))
    return buffer.getvalue()


def wav_upload(name: str = "我的课.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, wav_bytes(), content_type="audio/wav")


def text(**kwargs: object) -> ArticleText:
    base: dict[str, object] = {"title_zh": "放松小课", "body_zh": "<p>慢慢呼吸。</p>"}
    base.update(kwargs)
    return ArticleText(**base)  # type: ignore[arg-type]


class ContentTestCase(PersonaTestCase):
    def setUp(self) -> None:
        super().setUp()
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def article(self, unit=None, **kwargs: object) -> Article:
        return actions.create_article(
            acting_user=self.c1_worker,
            unit=unit or self.c1,
            kind=Kind.ARTICLE,
            text=text(**kwargs),
        )

    def lesson(self, **kwargs: object) -> Article:
        return actions.create_article(
            acting_user=self.c1_worker,
            unit=self.c1,
            kind=Kind.LESSON,
            text=text(transcript_zh="请跟着声音慢慢吸气、呼气。", **kwargs),
            media=wav_upload(),
        )

    def english_client_for(self, user):
        """Messages this app adds are asserted in English until the lead merges the
        translations (the catalogue is not edited here)."""
        client = self.client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    def form_data(self, **kwargs: object) -> dict[str, object]:
        data: dict[str, object] = {
            "unit": str(self.c1.pk),
            "title_zh": "睡前放松",
            "body_zh": "<p>关灯前十分钟放下手机。</p>",
            "topics": ["sleep"],
            "groups": ["general_public"],
        }
        data.update(kwargs)
        return data


class SanitiseTests(ContentTestCase):
    def test_hostile_markup_is_removed(self):
        cleaned = clean_html(HOSTILE)
        for bad in ("script", "alert", "onclick", "onerror", "javascript:", "<img", "iframe"):
            self.assertNotIn(bad, cleaned)
        self.assertNotIn("style", cleaned)
        self.assertIn('href="https://example.org/x"', cleaned)
        self.assertIn('rel="noopener noreferrer"', cleaned)
        self.assertNotIn("target", cleaned)
        self.assertIn('href="tel:12356"', cleaned)
        self.assertIn("<h2>标题</h2>", cleaned)
        self.assertEqual(clean_html(cleaned), cleaned)  # idempotent

    def test_article_body_is_stored_and_shown_sanitised(self):
        article = self.article(body_zh=HOSTILE, body_en="<p>Hi<script>x()</script></p>")
        article.refresh_from_db()
        self.assertNotIn("script", article.body_zh)
        self.assertNotIn("onclick", article.body_zh)
        self.assertEqual(article.body_html_for("en"), "<p>Hi</p>")
        page = self.client_for(self.c1_worker).get(f"/content/{article.pk}/")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn(b"alert(1)", page.content)
        self.assertNotIn(b"javascript:", page.content)


class FormTests(ContentTestCase):
    def test_editor_writes_an_article_as_a_draft(self):
        client = self.english_client_for(self.c1_worker)
        self.assertEqual(client.get("/content/new/article").status_code, 200)
        response = client.post("/content/new/article", self.form_data())
        self.assertEqual(response.status_code, 302, response.content.decode()[:3000])
        article = Article.objects.get(title_zh="睡前放松")
        self.assertEqual(article.status, Status.DRAFT)
        self.assertEqual(article.unit, self.c1)
        self.assertEqual(article.topic_list, ["sleep"])
        self.assertEqual(article.created_by, self.c1_worker)
        self.assertIn("睡前放松", client.get("/content/").content.decode())

    def test_missing_title_names_the_field_in_chinese_and_saves_nothing(self):
        client = self.english_client_for(self.c1_worker)
        response = client.post("/content/new/article", self.form_data(title_zh=""))
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Give a title in at least one language.", status_code=400)
        self.assertIn("title_zh", response.context["form"].errors)
        self.assertFalse(Article.objects.filter(body_zh__contains="关灯").exists())

    def test_lesson_without_transcript_or_media_is_refused_by_field(self):
        client = self.english_client_for(self.c1_worker)
        response = client.post("/content/new/lesson", self.form_data())
        self.assertEqual(response.status_code, 400)
        form = response.context["form"]
        self.assertIn("transcript_zh", form.errors)
        self.assertIn("media_file", form.errors)
        self.assertFalse(Article.objects.filter(kind=Kind.LESSON).exists())

    def test_lesson_link_must_be_https(self):
        client = self.english_client_for(self.c1_worker)
        response = client.post(
            "/content/new/lesson",
            self.form_data(transcript_zh="文字稿", link_url="http://example.org/v.mp4"),
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("link_url", response.context["form"].errors)
        ok = client.post(
            "/content/new/lesson",
            self.form_data(transcript_zh="文字稿", link_url="https://example.org/v.mp4"),
        )
        self.assertEqual(ok.status_code, 302)
        lesson = Article.objects.get(kind=Kind.LESSON)
        self.assertIsNone(lesson.media_url)
        self.assertEqual(lesson.link_url, "https://example.org/v.mp4")

    def test_non_editor_cannot_open_the_pages(self):
        for user in (self.c1_grid, self.hotline, self.auditor):
            client = self.client_for(user)
            self.assertEqual(client.get("/content/").status_code, 403)
            self.assertEqual(client.get("/content/new/article").status_code, 403)

    def test_a_lesson_cannot_exist_without_media_or_transcript(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            Article.objects.create(kind=Kind.LESSON, unit=self.c1, title_zh="x", transcript_zh="y")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Article.objects.create(
                kind=Kind.LESSON, unit=self.c1, title_zh="x", link_url="https://e.org/a"
            )
        with self.assertRaises(IntegrityError), transaction.atomic():
            Article.objects.create(unit=self.c1, title_zh="x", status=Status.PUBLISHED)


class UploadTests(ContentTestCase):
    def test_a_2_gb_upload_is_refused_before_the_body_is_read(self):
        client = self.english_client_for(self.c1_worker)
        data = self.form_data(transcript_zh="文字稿", media_file=wav_upload())
        response = client.post("/content/new/lesson", data, CONTENT_LENGTH=str(2 * 1024**3))
        self.assertEqual(response.status_code, 413)
        self.assertContains(response, "The file is too large: at most 300 MB", status_code=413)
        self.assertFalse(Article.objects.filter(kind=Kind.LESSON).exists())

    @override_settings(XINQIAO_MEDIA_MAX_MB=1)
    def test_the_real_size_is_checked_while_the_body_streams(self):
        big = SimpleUploadedFile("big.wav", wav_bytes() + b"\0" * (1024 * 1024 + 10))
        client = self.english_client_for(self.c1_worker)
        response = client.post(
            "/content/new/lesson", self.form_data(transcript_zh="文字稿", media_file=big)
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("media_file", response.context["form"].errors)
        self.assertFalse(Article.objects.filter(kind=Kind.LESSON).exists())
        with self.assertRaises(ValidationError) as caught:
            actions.check_media(big)
        self.assertIn("media", caught.exception.error_dict)

    def test_a_file_that_is_not_media_is_refused_whatever_its_name(self):
        fake = SimpleUploadedFile("lesson.mp4", b"<html><script>x</script></html>" * 4, "video/mp4")
        client = self.english_client_for(self.c1_worker)
        response = client.post(
            "/content/new/lesson", self.form_data(transcript_zh="文字稿", media_file=fake)
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "not a video or audio file", status_code=400)
        self.assertIn("media_file", response.context["form"].errors)
        self.assertFalse(Article.objects.filter(kind=Kind.LESSON).exists())

    def test_magic_bytes_decide_the_type(self):
        self.assertEqual(sniff(b"\0\0\0\x20ftypisom" + b"\0" * 20).content_type, "video/mp4")
        self.assertEqual(sniff(b"\0\0\0\x20ftypM4A " + b"\0" * 20).content_type, "audio/mp4")
        self.assertEqual(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm").content_type, "video/webm")
        self.assertEqual(sniff(b"OggS\0\2").content_type, "audio/ogg")
        self.assertEqual(sniff(b"ID3\x04\0").content_type, "audio/mpeg")
        self.assertEqual(sniff(b"\xff\xfb\x90\x64").content_type, "audio/mpeg")
        self.assertEqual(sniff(b"\xff\xf1\x50\x80").content_type, "audio/aac")
        self.assertEqual(sniff(wav_bytes()[:64]).content_type, "audio/wav")
        for junk in (b"", b"PK\3\4zip", b"%PDF-1.7", b"\x89PNG\r\n", b"RIFF\0\0\0\0AVI "):
            self.assertIsNone(sniff(junk), junk)

    def test_upload_is_stored_under_the_article_id_not_the_uploaders_name(self):
        client = self.english_client_for(self.c1_worker)
        response = client.post(
            "/content/new/lesson",
            self.form_data(transcript_zh="文字稿", media_file=wav_upload("../../etc/秘密.mp3")),
        )
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        lesson = Article.objects.get(kind=Kind.LESSON)
        self.assertEqual(lesson.media.name, f"content/{lesson.pk}.wav")
        self.assertEqual((lesson.media_kind, lesson.media_type), ("audio", "audio/wav"))


class RangeTests(ContentTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.lesson_row = self.lesson()
        actions.publish_article(acting_user=self.c1_worker, article=self.lesson_row)
        self.data = wav_bytes()
        self.url = f"/content/media/{self.lesson_row.pk}"

    def body(self, response) -> bytes:
        return b"".join(response.streaming_content)

    def test_whole_file(self):
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Accept-Ranges"], "bytes")
        self.assertEqual(response["Content-Type"], "audio/wav")
        self.assertEqual(int(response["Content-Length"]), len(self.data))
        self.assertEqual(self.body(response), self.data)

    def test_ranges_are_byte_exact(self):
        size = len(self.data)
        cases = {
            "bytes=0-9": (0, 9),
            "bytes=10-": (10, size - 1),
            "bytes=-5": (size - 5, size - 1),
            "bytes=100-199": (100, 199),
            f"bytes=5-{size + 100}": (5, size - 1),
        }
        for header, (first, last) in cases.items():
            with self.subTest(header):
                response = self.client.get(self.url, HTTP_RANGE=header)
                self.assertEqual(response.status_code, 206)
                self.assertEqual(response["Content-Range"], f"bytes {first}-{last}/{size}")
                self.assertEqual(int(response["Content-Length"]), last - first + 1)
                self.assertEqual(self.body(response), self.data[first : last + 1])

    def test_unsatisfiable_and_ignored_ranges(self):
        size = len(self.data)
        response = self.client.get(self.url, HTTP_RANGE=f"bytes={size}-")
        self.assertEqual(response.status_code, 416)
        self.assertEqual(response["Content-Range"], f"bytes */{size}")
        self.assertEqual(self.client.get(self.url, HTTP_RANGE="bytes=-0").status_code, 416)
        for ignored in ("bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=-"):
            with self.subTest(ignored):
                whole = self.client.get(self.url, HTTP_RANGE=ignored)
                self.assertEqual(whole.status_code, 200)
                self.assertEqual(self.body(whole), self.data)
        self.assertIsNone(parse_range("", 10))

    def test_draft_media_is_for_editors_in_scope_only(self):
        actions.withdraw_article(acting_user=self.c1_worker, article=self.lesson_row)
        anonymous = self.client.get(self.url)
        self.assertEqual(anonymous.status_code, 302)
        self.assertTrue(anonymous["Location"].startswith("/accounts/login/"))
        self.assertEqual(self.client_for(self.c2_counsellor).get(self.url).status_code, 404)
        self.assertEqual(self.client_for(self.c1_grid).get(self.url).status_code, 404)
        self.assertEqual(self.client_for(self.outsider).get(self.url).status_code, 404)
        editor = self.client_for(self.c1_worker).get(self.url, HTTP_RANGE="bytes=0-3")
        self.assertEqual(editor.status_code, 206)
        self.assertEqual(self.body(editor), b"RIFF")
        self.assertIn("no-store", editor["Cache-Control"])


class PublicationTests(ContentTestCase):
    def test_scheduled_article_appears_when_its_time_comes(self):
        article = self.article(title_zh="定时文章")
        at = NOW + timedelta(hours=2)
        actions.schedule_article(acting_user=self.c1_worker, article=article, publish_at=at)
        self.assertNotIn(article, public.published_for(self.c1))
        self.assertIsNone(public.find_published(self.c1, article.pk))
        with time_machine.travel(at + timedelta(seconds=1), tick=False):
            self.assertIn(article, public.published_for(self.c1))
            self.assertEqual(public.find_published(self.c1, str(article.pk)), article)
        self.assertIn(article, public.published_for(self.c1, now=at))
        client = self.client_for(self.c1_worker)
        self.assertContains(client.get("/content/?status=scheduled"), "定时文章")
        self.assertNotContains(client.get("/content/?status=published"), "定时文章")
        with time_machine.travel(at + timedelta(seconds=1), tick=False):
            client = self.client_for(self.c1_worker)  # a fresh session (idle timeout)
            self.assertContains(client.get("/content/?status=published"), "定时文章")
            self.assertNotContains(client.get("/content/?status=scheduled"), "定时文章")

    def test_schedule_in_the_past_is_refused_through_the_page(self):
        article = self.article()
        client = self.english_client_for(self.c1_worker)
        response = client.post(
            f"/content/{article.pk}/schedule", {"publish_at": "2026-12-01T08:00"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Choose a time in the future", status_code=400)
        ok = client.post(f"/content/{article.pk}/schedule", {"publish_at": "2026-12-08T08:00"})
        self.assertEqual(ok.status_code, 302)
        article.refresh_from_db()
        self.assertEqual(article.status, Status.SCHEDULED)
        self.assertEqual(article.publish_at, datetime(2026, 12, 8, 8, 0, tzinfo=TZ))

    def test_publish_withdraw_and_the_transition_table(self):
        article = self.article()
        client = self.english_client_for(self.c1_worker)
        self.assertEqual(client.post(f"/content/{article.pk}/publish").status_code, 302)
        self.assertIn(article, public.published_for(self.c1))
        self.assertEqual(client.post(f"/content/{article.pk}/draft").status_code, 400)
        self.assertEqual(client.post(f"/content/{article.pk}/withdraw").status_code, 302)
        self.assertNotIn(article, public.published_for(self.c1))
        self.assertEqual(client.post(f"/content/{article.pk}/publish").status_code, 302)
        article.refresh_from_db()
        self.assertEqual(article.status, Status.PUBLISHED)

    def test_portal_tree_visibility_and_filters(self):
        street = self.c1.parent
        local = self.article(title_zh="社区文章", topics=["sleep"], groups=["student"])
        above = actions.create_article(
            acting_user=self.street_admin, unit=street, kind=Kind.ARTICLE, text=text()
        )
        for a, user in ((local, self.c1_worker), (above, self.street_admin)):
            actions.publish_article(acting_user=user, article=a)
        self.assertIn(local, public.published_for(self.c1))
        self.assertIn(above, public.published_for(self.c1))
        self.assertNotIn(local, public.published_for(self.c2))
        self.assertIn(above, public.published_for(self.c2))
        self.assertNotIn(local, public.published_for(self.outside_city))
        self.assertEqual(
            list(public.published_for(self.c1, topic="sleep").filter(unit=self.c1)), [local]
        )
        self.assertEqual(
            list(public.published_for(self.c1, group="student").filter(unit=self.c1)), [local]
        )
        self.assertNotIn(local, public.published_for(self.c1, group="teacher"))
        self.assertFalse(public.published_for(self.c1, topic="nonsense").exists())
        self.assertFalse(
            public.published_for(self.c1, kind=Kind.LESSON).filter(unit=self.c1).exists()
        )
        first = public.published_for(self.c1).first()
        self.assertIsNotNone(first and first.unit)  # local before built-in
        self.assertIsNone(public.find_published(self.c1, "not-a-uuid"))


class ScopeTests(ContentTestCase):
    def test_another_communitys_editor_gets_404(self):
        article = self.article()
        client = self.client_for(self.c2_counsellor)
        for url in (
            f"/content/{article.pk}/",
            f"/content/{article.pk}/edit",
            f"/content/{article.pk}/stats",
        ):
            self.assertEqual(client.get(url).status_code, 404, url)
        for url in ("publish", "withdraw", "schedule", "draft", "edit"):
            self.assertEqual(client.post(f"/content/{article.pk}/{url}").status_code, 404, url)
        self.assertNotIn(article.title_zh, client.get("/content/").content.decode())
        outsider = self.client_for(self.outsider)
        self.assertEqual(outsider.get(f"/content/{article.pk}/").status_code, 404)
        article.refresh_from_db()
        self.assertEqual(article.status, Status.DRAFT)

    def test_street_admin_sees_communities_below(self):
        article = self.article()
        client = self.client_for(self.street_admin)
        self.assertEqual(client.get(f"/content/{article.pk}/").status_code, 200)
        self.assertEqual(client.post(f"/content/{article.pk}/publish").status_code, 302)


class BuiltinTests(ContentTestCase):
    def builtin(self) -> Article:
        return Article.objects.get(builtin="slow-breathing")

    def test_every_editor_reads_built_ins_only_the_city_changes_them(self):
        article = self.builtin()
        worker = self.client_for(self.c1_worker)
        self.assertEqual(worker.get(f"/content/{article.pk}/").status_code, 200)
        self.assertEqual(worker.get(f"/content/{article.pk}/edit").status_code, 403)
        self.assertEqual(worker.post(f"/content/{article.pk}/withdraw").status_code, 403)
        with self.assertRaises(PermissionDenied):
            actions.update_article(acting_user=self.street_admin, article=article, text=text())
        self.assertIn(article, public.published_for(self.c1))
        city = self.client_for(self.city_admin)
        self.assertEqual(city.get(f"/content/{article.pk}/edit").status_code, 200)
        self.assertEqual(city.post(f"/content/{article.pk}/withdraw").status_code, 302)
        self.assertNotIn(article, public.published_for(self.c1))
        # Another city's administrator may read the platform's text but not rewrite it.
        self.assertEqual(
            self.client_for(self.outsider).get(f"/content/{article.pk}/edit").status_code, 403
        )

    def test_starter_set_in_both_languages(self):
        rows = Article.objects.filter(unit__isnull=True).exclude(builtin="")
        self.assertEqual(
            set(rows.values_list("builtin", flat=True)),
            {
                "slow-breathing",
                "progressive-muscle-relaxation",
                "sleep-hygiene",
                "coping-with-isolation",
                "grief-and-loss",
                "talking-to-children",
            },
        )
        for article in rows:
            with self.subTest(article.builtin):
                self.assertEqual(article.status, Status.PUBLISHED)
                self.assertTrue(article.title_zh and article.title_en)
                self.assertTrue(article.summary_zh and article.summary_en)
                chars = len(article.body_zh.replace("<p>", "").replace("</p>", ""))
                self.assertGreaterEqual(chars, 300)
                self.assertLessEqual(len(article.body_zh), 1400)
                self.assertIn("心理援助热线", article.body_zh)
                self.assertIn("hotline", article.body_en)
                self.assertTrue(article.topic_list)
                self.assertTrue(article.group_list)
                self.assertEqual(clean_html(article.body_zh), article.body_zh)
                self.assertIn(article, public.published_for(self.c3))
        with translation.override("en"):
            page = self.client_for(self.c1_worker).get("/content/?kind=article")
        self.assertEqual(page.status_code, 200)


class CounterTests(ContentTestCase):
    def test_views_and_completions_per_unit_and_day(self):
        article = self.article()
        for _ in range(3):
            public.record_view(article=article, unit=self.c1)
        public.record_completion(article=article, unit=self.c1)
        for _ in range(7):
            public.record_view(article=article, unit=self.c2)
        with time_machine.travel(NOW + timedelta(days=1), tick=False):
            public.record_view(article=article, unit=self.c1)
        self.assertEqual(ArticleStat.objects.filter(article=article).count(), 3)
        row = ArticleStat.objects.get(article=article, unit=self.c1, day=NOW.date())
        self.assertEqual((row.views, row.completions), (3, 1))
        page = self.client_for(self.street_admin).get(f"/content/{article.pk}/stats")
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertIn(self.c2.name, html)
        self.assertIn("<td>7</td>", html)
        self.assertIn("&lt;5", html)  # c1: 4 views, a small cell
        self.assertIn("<td>11</td>", html)  # the total
        # c1's editor sees c1's row only.
        own = self.client_for(self.c1_worker).get(f"/content/{article.pk}/stats").content.decode()
        self.assertNotIn(self.c2.name, own)
        overview = self.client_for(self.street_admin).get("/content/stats")
        self.assertEqual(overview.status_code, 200)
        self.assertContains(overview, article.title_zh)

    @translation.override("en")
    def test_minutes_and_languages(self):
        article = self.article(title_en="Relax", body_zh="<p>" + "字" * 650 + "</p>")
        self.assertEqual(article.minutes, 3)
        self.assertEqual(article.title_for("en"), "Relax")
        self.assertEqual(article.summary_for("en"), "")
        self.assertEqual(article.body_html_for("en"), article.body_zh)  # falls back
        self.assertEqual(
            self.article(title_zh="", title_en="Only English").title_for("zh"), "Only English"
        )
        self.assertEqual(
            self.article(topics=[Topic.SLEEP, Topic.GRIEF]).topic_labels, ["Sleep", "Grief"]
        )


class DemoTests(ContentTestCase):
    def test_demo_content_is_published_with_counts(self):
        from xinqiao.content.demo import add_demo_content

        made = add_demo_content(self.demo.city, [self.c1, self.c2], self.city_admin)
        self.assertEqual(len(made), 4)
        audio = next(a for a in made if a.media)
        self.assertEqual(audio.media_kind, "audio")
        self.assertEqual(self.client.get(audio.media_url).status_code, 200)
        link = next(a for a in made if a.link_url)
        self.assertIsNone(link.media_url)
        self.assertTrue(all(a in public.published_for(self.c1) for a in made if a.unit != self.c2))
        self.assertTrue(ArticleStat.objects.filter(unit=self.c1).exists())


class EditTests(ContentTestCase):
    def test_editor_replaces_and_removes_the_media_of_a_lesson(self):
        lesson = self.lesson()
        old_name = lesson.media.name
        storage = lesson.media.storage
        client = self.english_client_for(self.c1_worker)
        page = client.get(f"/content/{lesson.pk}/edit")
        self.assertContains(page, "请跟着声音慢慢吸气")
        data = self.form_data(transcript_zh="新的文字稿", media_file=wav_upload("again.wav"))
        data.pop("unit")
        with self.captureOnCommitCallbacks(execute=True):
            response = client.post(f"/content/{lesson.pk}/edit", data)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        lesson.refresh_from_db()
        self.assertEqual(lesson.transcript_zh, "新的文字稿")
        self.assertTrue(storage.exists(lesson.media.name))
        if lesson.media.name != old_name:
            self.assertFalse(storage.exists(old_name))
        # Removing the file without a link would leave the lesson without media: refused.
        data = self.form_data(transcript_zh="新的文字稿", remove_media="on")
        data.pop("unit")
        refused = client.post(f"/content/{lesson.pk}/edit", data)
        self.assertEqual(refused.status_code, 400)
        self.assertIn("media_file", refused.context["form"].errors)
        data["link_url"] = "https://example.org/lesson"
        with self.captureOnCommitCallbacks(execute=True):
            self.assertEqual(client.post(f"/content/{lesson.pk}/edit", data).status_code, 302)
        lesson.refresh_from_db()
        self.assertFalse(lesson.media)
        self.assertEqual(lesson.media_kind, "")
        self.assertEqual(
            self.client_for(self.c1_worker).get(f"/content/media/{lesson.pk}").status_code, 404
        )

    def test_edit_keeps_the_status_and_the_change_log_names_the_editor(self):
        from auditlog.models import LogEntry

        article = self.article()
        actions.publish_article(acting_user=self.c1_worker, article=article)
        client = self.client_for(self.street_admin)
        data = self.form_data(title_zh="改过的标题")
        data.pop("unit")
        self.assertEqual(client.post(f"/content/{article.pk}/edit", data).status_code, 302)
        article.refresh_from_db()
        self.assertEqual((article.title_zh, article.status), ("改过的标题", Status.PUBLISHED))
        self.assertEqual(article.updated_by, self.street_admin)
        entry = LogEntry.objects.get_for_object(article).order_by("-pk").first()
        self.assertIsNotNone(entry)
        self.assertEqual(entry.actor, self.street_admin)

    def test_list_filters_and_a_constant_number_of_queries(self):
        for n in range(3):
            self.article(title_zh=f"列表文章{n}", topics=["grief"])
        client = self.client_for(self.c1_worker)
        client.get("/content/")  # warm the session
        with CaptureQueriesContext(connection) as few:
            client.get("/content/?topic=grief")
        for n in range(3, 9):
            self.article(title_zh=f"列表文章{n}", topics=["grief"])
        with CaptureQueriesContext(connection) as many:
            page = client.get("/content/?topic=grief")
        self.assertEqual(len(many), len(few))
        html = page.content.decode()
        self.assertIn("列表文章2", html)
        self.assertIn("失去亲人之后", html)  # the built-in grief article
        self.assertNotIn("慢呼吸", html)
        lessons = client.get("/content/?kind=lesson").content.decode()
        self.assertNotIn("列表文章", lessons)


class CsrfTests(ContentTestCase):
    def test_the_upload_views_still_check_csrf(self):
        from django.test import Client

        from xinqiao.test import login

        client = login(Client(enforce_csrf_checks=True), self.c1_worker)
        response = client.post("/content/new/article", self.form_data())
        self.assertEqual(response.status_code, 403)
        article = self.article()
        self.assertEqual(
            client.post(f"/content/{article.pk}/edit", self.form_data()).status_code, 403
        )
        self.assertFalse(Article.objects.filter(title_zh="睡前放松").exists())
