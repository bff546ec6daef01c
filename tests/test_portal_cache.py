"""Anonymous portal pages from the cache, and visits counted in the web process (issue #10
item 6; xinqiao/portal/pagecache.py, xinqiao/portal/page.py VisitCounter)."""

from __future__ import annotations

import re
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xinqiao.content import actions as content
from xinqiao.content.actions import ArticleText
from xinqiao.content.models import ArticleStat, Kind
from xinqiao.portal import page as portal_page
from xinqiao.portal.models import PortalVisit
from xinqiao.portal.page import LARGE_TEXT_COOKIE, VisitCounter
from xinqiao.test import PersonaTestCase

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@override_settings(XINQIAO_PORTAL_PAGE_CACHE_SECONDS=30, XINQIAO_PORTAL_VISIT_FLUSH_SECONDS=0)
class PortalPageCacheTests(PersonaTestCase):
    def setUp(self) -> None:
        cache.clear()
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.home = reverse("portal:home", args=[self.c1.pk])

    def _queries(self, client: Client, path: str) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        self.assertEqual(response.status_code, 200)
        other = [q for q in queries.captured_queries if "portal_portalvisit" not in q["sql"]]
        return len(other), response.content.decode()

    def test_a_second_anonymous_visitor_gets_the_page_without_a_query_and_is_counted(self):
        first, page = self._queries(Client(), self.home)
        self.assertGreater(first, 0)
        second, again = self._queries(Client(), self.home)
        self.assertEqual(second, 0)  # only the visit counter was written
        self.assertIn(self.c1.name, again)
        self.assertEqual(TOKEN.sub("", page), TOKEN.sub("", again))
        visits = PortalVisit.objects.get(unit=self.c1, page="home", day=NOW.date())
        self.assertEqual(visits.count, 2)

    def test_the_cached_page_carries_each_visitors_own_csrf_token(self):
        Client().get(self.home)  # kept in the cache
        visitor = Client(enforce_csrf_checks=True)
        page = visitor.get(self.home).content.decode()
        token = TOKEN.findall(page)[0]
        self.assertNotIn("__xq_csrf_token__", page)
        self.assertIn("csrftoken", visitor.cookies)  # set for the cached page too
        switched = visitor.post(
            reverse("portal:text_size", args=[self.c1.pk]),
            {"csrfmiddlewaretoken": token, "large": "1", "next": self.home},
        )
        self.assertIn(switched.status_code, (302, 303))  # accepted: not a CSRF failure

    def test_languages_and_senior_mode_are_kept_apart(self):
        zh = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get(self.home).content.decode()
        en = Client(HTTP_ACCEPT_LANGUAGE="en").get(self.home).content.decode()
        self.assertIn('lang="zh-Hans"', zh)
        self.assertIn('lang="en"', en)
        senior = Client()
        senior.cookies[LARGE_TEXT_COOKIE] = "1"
        self.assertNotEqual(
            TOKEN.sub("", senior.get(self.home).content.decode()), TOKEN.sub("", zh)
        )

    def test_a_visitor_with_a_session_is_never_served_from_the_cache(self):
        Client().get(self.home)
        signed_in = Client()
        signed_in.cookies["sessionid"] = "x" * 32
        count, _page = self._queries(signed_in, self.home)
        self.assertGreater(count, 0)

    def test_pages_with_a_form_of_their_own_are_rendered_each_time(self):
        help_page = reverse("portal:help", args=[self.c1.pk])
        keys = {KEY.findall(Client().get(help_page).content.decode())[0] for _ in range(2)}
        self.assertEqual(len(keys), 2)  # a new idempotency key each time

    def test_an_article_is_rendered_and_its_view_counted_each_time(self):
        draft = content.create_article(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            kind=Kind.ARTICLE,
            text=ArticleText(title_zh="睡眠小贴士", body_zh="<p>规律作息</p>"),
            media=None,
        )
        article = content.publish_article(acting_user=self.c1_counsellor, article=draft)
        lesson = reverse("portal:lesson", args=[self.c1.pk, article.pk])
        for _ in range(2):
            count, _page = self._queries(Client(), lesson)
            self.assertGreater(count, 0)
        stat = ArticleStat.objects.get(article=article, unit=self.c1)
        self.assertEqual(stat.views, 2)

    @override_settings(XINQIAO_PORTAL_PAGE_CACHE_SECONDS=0)
    def test_off_means_off(self):
        Client().get(self.home)
        count, _page = self._queries(Client(), self.home)
        self.assertGreater(count, 0)


class VisitCounterTests(PersonaTestCase):
    def test_visits_are_written_together_after_the_interval(self):
        clock = mock.Mock(return_value=1000.0)
        with (
            mock.patch.object(portal_page.time, "monotonic", clock),
            override_settings(XINQIAO_PORTAL_VISIT_FLUSH_SECONDS=10),
            time_machine.travel(NOW, tick=False),
        ):
            counter = VisitCounter()
            for second in (1001.0, 1002.0, 1005.0):
                clock.return_value = second
                counter.add(str(self.c1.pk), "home")
            self.assertFalse(PortalVisit.objects.exists())  # held in the process
            clock.return_value = 1010.0
            counter.add(str(self.c1.pk), "learn")
            counts = dict(PortalVisit.objects.values_list("page", "count"))
            self.assertEqual(counts, {"home": 3, "learn": 1})
            counter.add(str(self.c1.pk), "home")
            counter.flush()  # as when the process stops
            visits = PortalVisit.objects.get(unit=self.c1, page="home", day=NOW.date())
            self.assertEqual(visits.count, 4)
