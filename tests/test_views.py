"""The pages: forms validate on the server with field-named, translated messages, and a
failed form writes nothing."""

from xinqiao.accounts.models import User
from xinqiao.orgs.models import Team, Unit
from xinqiao.test import PersonaTestCase


class UnitPageTests(PersonaTestCase):
    def test_create_unit_through_the_form(self):
        client = self.client_for(self.street_admin)
        response = client.post(
            f"/org/units/{self.c1.pk}/new/", {"kind": "grid", "name": "第三网格"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Unit.objects.filter(parent=self.c1, name="第三网格").exists())

    def test_bad_input_names_the_field_in_chinese(self):
        client = self.client_for(self.street_admin)
        before = Unit.objects.count()
        response = client.post(f"/org/units/{self.c1.pk}/new/", {"kind": "district", "name": ""})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="id_name-error"')
        self.assertContains(response, "必填")
        self.assertEqual(Unit.objects.count(), before)

    def test_move_form_offers_only_valid_parents(self):
        client = self.client_for(self.city_admin)
        page = client.get(f"/org/units/{self.c1.pk}/move/").content.decode()
        for street in self.demo.streets:
            self.assertIn(street.name, page)
        self.assertNotIn(self.demo.districts[0].name + " ·", page)

    def test_frontline_staff_cannot_manage_units(self):
        client = self.client_for(self.c1_counsellor)
        self.assertEqual(client.get(f"/org/units/{self.c1.pk}/edit/").status_code, 403)
        self.assertNotContains(client.get(f"/org/units/{self.c1.pk}/"), "/edit/")

    def test_deactivate_refusal_is_shown_as_a_message(self):
        client = self.client_for(self.street_admin)
        response = client.post(f"/org/units/{self.c1.pk}/active/", {"active": "0"}, follow=True)
        self.assertEqual(response.status_code, 200)
        self.c1.refresh_from_db()
        self.assertTrue(self.c1.is_active)
        self.assertContains(response, 'class="msg error"')


class StaffPageTests(PersonaTestCase):
    def test_create_staff_account(self):
        client = self.client_for(self.street_admin)
        response = client.post(
            "/org/staff/new/",
            {
                "username": "c1_new",
                "name": "新同事",
                "email": "",
                "password": "long-enough-pass-9",
                "unit": self.c1.pk,
                "role": "counsellor",
                "profession": "counsellor",
                "qualification": "counsellor_l3",
                "qualification_number": "",
            },
        )
        self.assertEqual(response.status_code, 302)
        user = User.objects.get(username="c1_new")
        self.assertEqual(user.staff_profile.qualification, "counsellor_l3")

    def test_street_admin_cannot_pick_a_unit_outside_their_street(self):
        client = self.client_for(self.street_admin)
        response = client.post(
            "/org/staff/new/",
            {
                "username": "c3_new",
                "name": "越界",
                "password": "long-enough-pass-9",
                "unit": self.c3.pk,
                "role": "counsellor",
                "profession": "counsellor",
                "qualification": "none",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="id_unit-error"')
        self.assertFalse(User.objects.filter(username="c3_new").exists())

    def test_staff_page_shows_missing_agreement(self):
        client = self.client_for(self.street_admin)
        page = client.get(f"/org/staff/{self.demo.users['c2_grid2'].pk}/")
        self.assertContains(page, "warn")

    def test_record_agreement_via_form(self):
        person = self.demo.users["c2_grid2"]
        client = self.client_for(self.street_admin)
        bad = client.post(
            f"/org/staff/{person.pk}/agreements/new/",
            {"signed_on": "2999-01-01", "document_reference": "BM-9"},
        )
        self.assertContains(bad, 'id="id_signed_on-error"')
        ok = client.post(
            f"/org/staff/{person.pk}/agreements/new/",
            {"signed_on": "2026-01-01", "document_reference": "BM-9"},
        )
        self.assertEqual(ok.status_code, 302)

    def test_deactivated_account_cannot_sign_in(self):
        client = self.client_for(self.street_admin)
        client.post(f"/org/staff/{self.c1_grid.pk}/active/", {"active": "0"})
        self.c1_grid.refresh_from_db()
        self.assertFalse(self.c1_grid.is_active)
        login = self.client.post(
            "/accounts/login/", {"username": "c1_grid1", "password": "xinqiao-demo"}
        )
        self.assertEqual(login.status_code, 200)


class TeamPageTests(PersonaTestCase):
    def test_team_pages(self):
        client = self.client_for(self.street_admin)
        self.assertContains(client.get("/org/teams/"), "春晖社区心理疏导小分队")
        team = Team.objects.get(unit=self.c1, kind="community")
        page = client.get(f"/org/teams/{team.pk}/")
        self.assertContains(page, "<form")


class WorkbenchTests(PersonaTestCase):
    def test_each_role_gets_a_workbench_built_from_real_data(self):
        for persona, user in self.personas().items():
            with self.subTest(persona=persona):
                page = self.client_for(user).get("/")
                self.assertEqual(page.status_code, 200)
        admin = self.client_for(self.street_admin).get("/").content.decode()
        self.assertIn(self.demo.users["c2_grid2"].name, admin)  # unsigned agreement listed
        worker = self.client_for(self.c1_worker).get("/").content.decode()
        self.assertIn("春晖社区心理疏导小分队", worker)
        self.assertNotIn(self.demo.users["c2_grid2"].name, worker)

    def test_error_pages_are_plain_and_translated(self):
        page = self.client_for(self.c1_worker).get(
            "/org/units/00000000-0000-0000-0000-000000000000/"
        )
        self.assertEqual(page.status_code, 404)
        self.assertNotIn("Traceback", page.content.decode())


class ErrorPageTests(PersonaTestCase):
    def test_server_error_page_has_no_trace(self):
        from django.test import RequestFactory

        from xinqiao.workbench.errors import server_error

        request = RequestFactory().get("/anything")
        response = server_error(request)
        self.assertEqual(response.status_code, 500)
        self.assertNotIn("Traceback", response.content.decode())
        api = server_error(RequestFactory().get("/api/v1/units/"))
        self.assertEqual(api["Content-Type"], "application/json")

    def test_expired_form_gets_a_plain_message(self):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        response = client.post("/accounts/login/", {"username": "a", "password": "b"})
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "表单已过期", status_code=403)
