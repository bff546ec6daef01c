"""The API base (DESIGN.md "Stable interfaces"): token auth, pagination, errors, schema."""

from django.test import Client

from xinqiao.test import PersonaTestCase


class ApiBaseTests(PersonaTestCase):
    def test_lists_are_count_next_results(self):
        client = self.client_for(self.city_admin)
        page = client.get("/api/v1/units/", {"page_size": 10}).json()
        self.assertEqual(set(page), {"count", "next", "results"})
        self.assertGreater(page["count"], 10)
        self.assertIn("page=2", page["next"])
        last = client.get("/api/v1/units/", {"page_size": 500}).json()
        self.assertIsNone(last["next"])
        self.assertEqual(len(last["results"]), last["count"])

    def test_ids_are_uuids_and_filters_work(self):
        client = self.client_for(self.street_admin)
        grids = client.get("/api/v1/units/", {"kind": "grid"}).json()
        self.assertEqual(grids["count"], 4)  # 东湖街道: two communities, two grids each
        self.assertEqual(len(grids["results"][0]["id"]), 36)

    def test_outside_scope_is_404_json(self):
        response = self.client_for(self.c1_worker).get(f"/api/v1/units/{self.c2.pk}/")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(set(response.json()), {"detail"})

    def test_unauthenticated_is_refused_without_data(self):
        response = Client().get("/api/v1/units/")
        self.assertEqual(response.status_code, 401)
        self.assertNotIn("results", response.json())

    def test_errors_are_translated_by_accept_language(self):
        zh = Client().post(
            "/api/v1/auth/token",
            {"username": "x", "password": "y"},
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        en = Client().post(
            "/api/v1/auth/token",
            {"username": "x", "password": "y"},
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        self.assertNotEqual(zh.json()["non_field_errors"], en.json()["non_field_errors"])
        self.assertIn("password", en.json()["non_field_errors"][0])

    def test_malformed_json_is_a_400_not_a_500(self):
        response = Client().post("/api/v1/auth/token", "{not json", content_type="application/json")
        self.assertEqual(response.status_code, 400)

    def test_openapi_schema_lists_the_endpoints(self):
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 200)
        schema = response.json()
        for path in (
            "/api/v1/auth/token",
            "/api/v1/units/",
            "/api/v1/units/{unit_id}/",
            "/api/v1/staff/",
            "/api/v1/me",
        ):
            self.assertIn(path, schema["paths"])
        self.assertIn("tokenAuth", schema["components"]["securitySchemes"])
        self.assertEqual(Client().get("/api/v1/docs/").status_code, 200)
