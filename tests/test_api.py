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


class ScoreApiTests(PersonaTestCase):
    def test_score_endpoint_follows_the_contract(self):
        client = self.client_for(self.c1_counsellor)
        response = client.post(
            "/api/v1/score",
            {"instrument": "phq9", "answers": [1, 2, 1, 2, 1, 1, 2, 1, 1], "total": 0},
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.json(),
            {
                "instrument": "phq9",
                "raw": 12,
                "total": 12,
                "severity": {"index": 2, "code": "moderate", "label": "中度"},
                "subscales": {},
                "critical_items": [9],
                "flags": ["suicidal_ideation"],
            },
        )

    def test_bad_answers_are_400_naming_the_item(self):
        client = self.client_for(self.c1_counsellor)
        bad = client.post(
            "/api/v1/score",
            {"instrument": "phq9", "answers": [0, 0, 7]},
            content_type="application/json",
        )
        self.assertEqual(bad.status_code, 400)
        wrong = client.post(
            "/api/v1/score",
            {"instrument": "phq9", "answers": [0, 0, 7, 0, 0, 0, 0, 0, 0]},
            content_type="application/json",
        )
        self.assertEqual(wrong.json()["item"], 3)
        unknown = client.post(
            "/api/v1/score", {"instrument": "xyz", "answers": []}, content_type="application/json"
        )
        self.assertEqual(unknown.status_code, 400)
        self.assertIn("instrument", unknown.json())

    def test_instrument_list_and_detail(self):
        client = self.client_for(self.c1_counsellor)
        listing = client.get("/api/v1/instruments/").json()
        self.assertIn("phq9", [i["code"] for i in listing["results"]])
        detail = client.get("/api/v1/instruments/phq9/").json()
        self.assertEqual(len(detail["questions"]), 10)
        self.assertEqual(client.get("/api/v1/instruments/nope/").status_code, 404)
