"""The staff search of person files keeps the name or number out of every URL (issue #10 item
9): it is POSTed with the CSRF token, kept in the session under a token, and shown at
``/people/?s=<token>``; a GET with the search in it is sent on without it."""

from __future__ import annotations

import io
import re
from datetime import date

from django.contrib.sessions.models import Session
from django.test import Client
from openpyxl import load_workbook

from tests.people_data import resident_id
from xinqiao.audit.models import AccessLog
from xinqiao.people import actions
from xinqiao.people import search as people_search
from xinqiao.people.models import Person
from xinqiao.test import PersonaTestCase, login

PHONE = "17000003131"
ID_NUMBER = resident_id(date(1990, 2, 3), 3131)
FILE_LINK = re.compile(r'href="(/people/[0-9a-f-]{36}/)"')


class PeopleSearchTests(PersonaTestCase):
    def setUp(self) -> None:
        self.person = actions.register_person(
            acting_user=self.c1_counsellor,
            unit=self.c1,
            name="搜索测试甲",
            id_number=ID_NUMBER,
            phone=PHONE,
        )
        Person.objects.create(unit=self.c1, name="搜索测试乙")  # found by the name, not the number
        self.staff = self.client_for(self.c1_counsellor)

    def search(self, client: Client, **fields: str) -> str:
        posted = client.post("/people/search/", fields)
        self.assertEqual(posted.status_code, 303)
        return str(posted["Location"])

    def files_on(self, page) -> list[str]:
        return FILE_LINK.findall(page.content.decode())

    def test_the_result_is_at_a_token_url_and_shows_the_person(self):
        level = str(self.person.priority_level)
        location = self.search(self.staff, lookup=PHONE, priority=level)
        self.assertNotIn(PHONE, location)
        self.assertRegex(location, rf"^/people/\?priority={level}&s=[\w-]{{12}}$")  # GET filters
        page = self.staff.get(location)
        self.assertEqual(self.files_on(page), [f"/people/{self.person.pk}/"])
        self.assertContains(page, f'value="{PHONE}"')  # the box still holds what was searched
        self.assertNotContains(page, f"={PHONE}")  # … and no link or form action does

    def test_a_search_without_a_name_or_number_needs_no_token(self):
        self.assertEqual(self.search(self.staff, status="archived"), "/people/?status=archived")
        self.assertEqual(self.search(self.staff), "/people/")

    def test_paging_through_the_results_keeps_the_search(self):
        Person.objects.bulk_create(
            Person(unit=self.c1, name=f"翻页测试{n:02}", priority_level=2) for n in range(55)
        )
        location = self.search(self.staff, q="翻页测试")
        first = self.staff.get(location)
        self.assertEqual(len(self.files_on(first)), 50)
        self.assertNotContains(first, "搜索测试甲")
        token = location.split("s=")[1]
        pages = re.findall(r'class="pager".*?href="\?([^"]*)"', first.content.decode(), re.S)
        self.assertEqual(pages, [f"s={token}&amp;page=2"])
        second = self.staff.get(f"/people/?s={token}&page=2")
        self.assertEqual(len(self.files_on(second)), 5)
        self.assertNotContains(second, "搜索测试甲")
        self.assertContains(second, 'value="翻页测试"')
        # Back to the earlier search: the last few are kept.
        back = self.search(self.staff, lookup=ID_NUMBER)
        self.assertEqual(len(self.files_on(self.staff.get(back))), 1)
        self.assertEqual(len(self.files_on(self.staff.get(location))), 50)

    def test_an_unknown_or_expired_token_shows_the_list_with_a_note(self):
        everyone = len(self.files_on(self.staff.get("/people/")))
        self.assertGreater(everyone, 1)
        for location in ("/people/?s=nonsense", "/people/?s="):
            page = self.staff.get(location)
            self.assertEqual(page.status_code, 200)
            self.assertEqual(len(self.files_on(page)), everyone)
        page = self.staff.get("/people/?s=nonsense")
        self.assertContains(page, "搜索已过期")
        self.assertNotContains(self.staff.get("/people/?s="), "搜索已过期")
        # Only the last few searches are kept; the oldest token then expires.
        oldest = self.search(self.staff, lookup=PHONE)
        for n in range(people_search.KEPT):
            self.search(self.staff, q=f"名字{n}")
        page = self.staff.get(oldest)
        self.assertContains(page, "搜索已过期")
        self.assertEqual(len(self.files_on(page)), everyone)
        self.assertNotContains(page, PHONE)  # an empty search box
        # The search goes with the session: signed out and in again, the token is unknown.
        location = self.search(self.staff, lookup=PHONE)
        self.staff.logout()
        again = self.client_for(self.c1_counsellor)
        self.assertContains(again.get(location), "搜索已过期")

    def test_a_token_works_only_in_the_session_that_made_it(self):
        location = self.search(self.staff, lookup=PHONE)
        for user in (self.c1_worker, self.c1_counsellor):  # same scope; even the same user
            with self.subTest(user=user.username):
                page = self.client_for(user).get(location)
                self.assertContains(page, "搜索已过期")
                self.assertNotContains(page, PHONE)
        self.assertEqual(len(self.files_on(self.staff.get(location))), 1)

    def test_the_session_row_holds_the_search_sealed_not_in_clear(self):
        self.search(self.staff, lookup=PHONE, q="搜索测试")
        rows = [s.get_decoded() for s in Session.objects.all()]
        kept = [row[people_search.SESSION_KEY] for row in rows if people_search.SESSION_KEY in row]
        self.assertEqual(len(kept), 1)
        self.assertNotIn(PHONE, str(kept))
        self.assertNotIn("搜索测试", str(kept))

    def test_the_search_needs_the_csrf_token(self):
        browser = login(Client(enforce_csrf_checks=True), self.c1_counsellor)
        self.assertEqual(browser.post("/people/search/", {"lookup": PHONE}).status_code, 403)
        form = browser.get("/people/").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token is not None
        posted = browser.post(
            "/people/search/", {"lookup": PHONE, "csrfmiddlewaretoken": token.group(1)}
        )
        self.assertEqual(posted.status_code, 303)
        self.assertEqual(self.staff.get("/people/search/").status_code, 405)

    def test_a_search_in_the_url_is_not_run_and_goes_no_further(self):
        for query in ({"lookup": PHONE}, {"q": "搜索测试"}, {"lookup": PHONE, "q": "x"}):
            with self.subTest(query=query):
                moved = self.staff.get("/people/", {**query, "priority": "2", "page": "1"})
                self.assertEqual(moved.status_code, 302)
                self.assertEqual(moved["Location"], "/people/?priority=2&page=1")
        page = self.staff.get("/people/", {"lookup": PHONE}, follow=True)
        self.assertContains(page, "搜索内容不会放进网址")
        self.assertNotContains(page, PHONE)
        exported = self.staff.get("/people/export.xlsx", {"lookup": PHONE})
        self.assertEqual((exported.status_code, exported["Location"]), (302, "/people/"))

    def test_the_access_log_says_a_search_ran_never_what_was_sought(self):
        AccessLog.objects.all().delete()
        self.staff.get(self.search(self.staff, lookup=PHONE))
        self.staff.get(self.search(self.staff, q="搜索测试"))
        self.staff.get(self.search(self.staff, status="archived"))
        entries = list(AccessLog.objects.order_by("at").values("kind", "reason", "path"))
        self.assertEqual(
            entries,
            [
                {"kind": "search", "reason": "by document number or phone", "path": "/people/"},
                {"kind": "search", "reason": "by name", "path": "/people/"},
                {"kind": "list", "reason": "", "path": "/people/"},
            ],
        )
        stored = str(list(AccessLog.objects.values()))
        self.assertNotIn(PHONE, stored)
        self.assertNotIn("搜索测试", stored)

    def test_a_too_long_search_says_which_field(self):
        page = self.staff.post("/people/search/", {"q": "长" * 101})
        self.assertEqual(page.status_code, 400)
        self.assertContains(page, "姓名", status_code=400)
        self.assertContains(page, "100", status_code=400)

    def test_the_export_follows_the_search_and_never_replaces_an_expired_one(self):
        location = self.search(self.staff, lookup=PHONE)
        token = location.split("s=")[1]
        exported = self.staff.get(f"/people/export.xlsx?s={token}")
        self.assertEqual(exported.status_code, 200)
        sheet = load_workbook(io.BytesIO(exported.content)).active
        assert sheet is not None
        self.assertEqual(sheet.max_row, 2)  # the header and the one file found
        expired = self.staff.get("/people/export.xlsx?s=nonsense&names=1")
        self.assertEqual(expired.status_code, 302)
        self.assertEqual(expired["Location"], "/people/?s=nonsense&names=1")

    def test_outside_the_scope_the_search_finds_nothing(self):
        other = self.client_for(self.c2_counsellor)
        self.assertEqual(self.files_on(other.get(self.search(other, lookup=PHONE))), [])
        self.assertEqual(self.client_for(self.auditor).post("/people/search/").status_code, 404)
