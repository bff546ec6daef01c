"""Schemathesis against the OpenAPI schema (issue #10 item 7): every operation of /api/v1/,
driven in-process through the WSGI application with a demo counsellor's API token, a bounded
and deterministic number of generated requests each. No answer may be a 5xx and every answer
must match what the schema says (status code, content type, headers, body)."""

from __future__ import annotations

from datetime import date
from typing import Any

import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks
from schemathesis.core.result import Err

from tests.people_data import phone, resident_id
from xinqiao.accounts.actions import issue_api_token
from xinqiao.assessments import actions as assessment_actions
from xinqiao.assessments.models import Assessment
from xinqiao.orgs.models import Team
from xinqiao.people import actions as people_actions
from xinqiao.risk.models import Alert
from xinqiao.test import PersonaTestCase

EXAMPLES = 10

# No server error; the status, content type, headers and body of every answer as the schema
# documents them. (Schemathesis' positive/negative data acceptance checks are left out: a
# well-formed UUID of a unit that does not exist is rightly refused although the schema allows
# its shape.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


ERROR_STATUSES = ("400", "401", "403", "404")


def with_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """The schema plus the error answers every operation may give (xinqiao/api.py
    ``exception_handler``): 400 with field errors, and 401/403/404 as ``{"detail": …}``; 429
    only where a throttle or the sign-in lockout applies (the token endpoint).
    drf-spectacular documents only the success answer; the fuzzing still checks that an error
    is one of these, with this shape, and never anything else."""
    detail = {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}},
    }
    fields = {"type": "object", "minProperties": 1}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ERROR_STATUSES + (("429",) if path == "/api/v1/auth/token" else ())
            for code in codes:
                body = fields if code == "400" else detail
                operation["responses"].setdefault(
                    code,
                    {
                        "description": code,
                        "content": {"application/json": {"schema": body}},
                    },
                )
    return document


class ApiFuzzTests(PersonaTestCase):
    assessment: Assessment

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # A person file with a consent, a crisis result and its alert, so that generated
        # requests also reach existing objects and not only 404s.
        person = people_actions.register_person(
            acting_user=cls.c1_counsellor,
            unit=cls.c1,
            name="模糊测试甲",
            id_number=resident_id(date(1982, 3, 4), 1),
            phone=phone(1),
        )
        people_actions.give_consent(
            acting_user=cls.c1_counsellor,
            person=person,
            purpose="assessment",
            given_by="self",
            method="signed_paper",
            given_on=timezone.localdate(),
        )
        cls.assessment = assessment_actions.record_assessment(
            acting_user=cls.c1_counsellor,
            person=person,
            instrument="phq9",
            answers=[1, 1, 1, 1, 1, 1, 1, 1, 3],  # item 9 answered 3: a crisis signal
        )

    def tearDown(self) -> None:
        cache.clear()  # the token endpoint's throttle counts must not leak into other tests
        super().tearDown()

    def known_ids(self) -> dict[str, str]:
        alert = Alert.objects.get(person=self.assessment.person)
        ids = {
            "unit_id": str(self.c1.pk),
            "person_id": str(self.assessment.person_id),
            "assessment_id": str(self.assessment.pk),
            "alert_id": str(alert.pk),
            "staff_id": str(self.c1_worker.pk),
            "code": "phq9",
        }
        team = Team.objects.filter(members__user=self.c1_counsellor).first()
        if team is not None:
            ids["team_id"] = str(team.pk)
        return ids

    def test_every_operation_answers_within_the_schema(self) -> None:
        _, raw = issue_api_token(user=self.c1_counsellor, name="fuzz")
        headers = {"Authorization": f"Token {raw}", "Accept-Language": "zh-hans"}
        document = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
        schema = schemathesis.openapi.from_dict(with_error_responses(document))
        schema.app = WSGIHandler()
        # As django.test.Client does: the end of a request must not close the test's
        # connection (DB_CONN_MAX_AGE=0), or the test transaction is gone.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        self.addCleanup(request_started.connect, close_old_connections)
        self.addCleanup(request_finished.connect, close_old_connections)
        ids = self.known_ids()
        failures: list[str] = []
        answered: list[int] = []
        operations = 0
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                failures.append(f"schema: {result.err()}")
                continue
            operation = result.ok()
            operations += 1
            names = {p.name for p in operation.path_parameters}
            known = {k: v for k, v in ids.items() if k in names}
            strategies = [
                operation.as_strategy(),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            ]
            if known:
                strategies.append(operation.as_strategy(path_parameters=known))
            strategy = st.one_of(*strategies)

            @FUZZ
            @given(case=strategy)
            def run(case: Any) -> None:
                with transaction.atomic():
                    response = case.call_and_validate(headers=headers, checks=CHECKS)
                    answered.append(response.status_code)
                    transaction.set_rollback(True)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # collected, reported below
                failures.append(f"{operation.label}: {exc}")
        self.assertGreater(operations, 20)
        # The token works: a good share of the generated requests reached the data.
        self.assertGreater(sum(200 <= code < 300 for code in answered), 2 * operations)
        self.assertEqual(failures, [], "\n\n".join(failures))
