"""The locust users of bench/load.py (issue #10 item 6). Run by bench/load.py, not by hand.

Imports nothing of the platform (so locust may live in a separate virtual environment). Reads
the world bench/load.py built (unit ids, lesson ids, a campaign token, signed-in staff cookies:
no personal data) from ``XQ_LOAD_CONFIG``; ``XQ_LOAD_MODE`` is ``mix``, ``submit`` or
``healthz``; every request (name, milliseconds, error) is written to ``XQ_LOAD_OUT`` at the end.

One HTTP request is one locust request: redirects are followed by hand, each a request of its
own. Request names start with their type (``portal:``, ``submit:``, ``staff:``, ``hotline:``,
``healthz``). In the mix, each user's next action is the kind furthest behind its share, so that
the *requests* come out 70 / 15 / 10 / 5 (a submission is 23 requests, a portal read one).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import time
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, constant, events, task
from locust.contrib.fasthttp import FastHttpSession

with open(os.environ["XQ_LOAD_CONFIG"], encoding="utf-8") as config_file:
    WORLD: dict[str, Any] = json.load(config_file)
MODE = os.environ.get("XQ_LOAD_MODE", "mix")
OUT = os.environ.get("XQ_LOAD_OUT", "")
PHQ9 = [1, 0, 1, 2, 0, 1, 0, 1, 0]  # nine answers, then item 10 (difficulty) skipped
FORM = re.compile(r"<form\b[^>]*>(.*?)</form>", re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
STARTED_AT = re.compile(
    r'name="started_at"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="started_at"'
)
CENTRE = re.compile(r'<select[^>]*name="centre"[^>]*>\s*<option value="([^"]+)"')
HEADERS = {"Accept-Language": "zh-CN,zh;q=0.9"}
FORM_HEADERS = {**HEADERS, "Content-Type": "application/x-www-form-urlencoded"}
# Requests per action, for the weights (counted from the flows below).
PER_ACTION = {"portal": 1, "submit": 23, "staff": 1, "hotline": 3, "healthz": 1}
SHARES = {"portal": 70, "submit": 15, "staff": 10, "hotline": 5}
PLANNED = dict.fromkeys(PER_ACTION, 0)
RECORDS: list[list[Any]] = []
RUN: dict[str, float] = {}
FLOWS = itertools.count()
_done_flows = [0]
_staff = itertools.count()
_operators = itertools.count()


class BadPage(Exception):
    """A page answered 2xx/3xx but not the page the flow expected."""


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, **_kw: Any) -> None:
    RECORDS.append([name, round(response_time, 2), exception is not None, _short(exception)])


def _short(exception: Any) -> str:
    if exception is None:
        return ""
    return f"{type(exception).__name__}: {str(exception)[:120]}"


@events.test_start.add_listener
def _started(**_kw: Any) -> None:
    RUN["started"] = time.time()


@events.test_stop.add_listener
def _stopped(**_kw: Any) -> None:
    RUN["stopped"] = time.time()
    if OUT:
        with open(OUT, "w", encoding="utf-8") as out:
            json.dump({**RUN, "records": RECORDS, "flows": _done_flows[0]}, out)


def _jar(session: FastHttpSession, host: str, cookies: dict[str, str]) -> None:
    """Put a signed-in browser's cookies (from bench/load.py) into ``session``."""
    domain = urlsplit(host).hostname or "127.0.0.1"
    for name, value in cookies.items():
        session.cookiejar.set_cookie(
            Cookie(
                version=0,
                name=name,
                value=value,
                port=None,
                port_specified=False,
                domain=domain,
                domain_specified=False,
                domain_initial_dot=False,
                path="/",
                path_specified=True,
                secure=False,
                expires=None,
                discard=True,
                comment=None,
                comment_url=None,
                rest={},
            )
        )


def _fail(name: str, exc: Exception) -> None:
    events.request.fire(
        request_type="CHECK", name=name, response_time=0, response_length=0, exception=exc
    )


class Visitor(FastHttpUser):
    """A phone on the portal, a respondent, a community worker or a hotline operator: one
    closed-loop user with an anonymous client and two signed-in ones."""

    wait_time = constant(0)
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.units = WORLD["units"]
        staff = WORLD["staff"]
        operators = WORLD["operators"]
        mine = staff[next(_staff) % len(staff)]
        self.staff_person_ids = mine["persons"]
        self.worker_client = FastHttpSession(self.host, self.environment.events.request, self)
        _jar(self.worker_client, self.host, mine["cookies"])
        self.operator_client = FastHttpSession(self.host, self.environment.events.request, self)
        _jar(self.operator_client, self.host, operators[next(_operators) % len(operators)])
        self.kinds = list(SHARES) if MODE == "mix" else [MODE]

    # --- the plumbing --------------------------------------------------------------------

    def _request(
        self,
        client: FastHttpSession,
        method: str,
        path: str,
        name: str,
        data: dict[str, Any] | None = None,
        expect: str = "",
    ) -> tuple[str, str]:
        """One request, no redirect followed: (the page, "") for a 200 holding ``expect``,
        ("", the target) for a redirect when ``expect`` is "redirect"; anything else fails."""
        headers = FORM_HEADERS if data is not None else HEADERS
        body = urlencode(data, doseq=True) if data is not None else None
        with client.request(
            method,
            path,
            name=name,
            data=body,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            status = response.status_code
            if expect == "redirect":
                location = urlsplit(response.headers.get("Location") or "")
                if status not in (302, 303) or not location.path:
                    response.failure(f"HTTP {status}, not the expected redirect")
                    raise BadPage(name)
                response.success()
                return "", location.path + (f"?{location.query}" if location.query else "")
            if status != 200:
                response.failure(f"HTTP {status}")
                raise BadPage(name)
            text = response.text or ""
            if expect and expect not in text:
                response.failure(f"no {expect!r} on the page")
                raise BadPage(name)
            response.success()
            return text, ""

    def _get(self, client: FastHttpSession, path: str, name: str, expect: str = "") -> str:
        return self._request(client, "GET", path, name, expect=expect)[0]

    def _post(self, client: FastHttpSession, path: str, name: str, data: dict[str, Any]) -> str:
        """A form POST answered, as a browser expects, by a redirect: its target."""
        return self._request(client, "POST", path, name, data, expect="redirect")[1]

    @staticmethod
    def _hidden(page: str, field: str) -> dict[str, str]:
        """The hidden inputs (CSRF token, idempotency key, …) of the page's form that holds
        ``field``, as a browser would send them."""
        for form in FORM.finditer(page):
            if f'name="{field}"' in form.group(1):
                return dict(HIDDEN.findall(form.group(1)))
        _fail("check: form", BadPage(f"no form with {field} on the page"))
        raise BadPage(field)

    # --- the actions ---------------------------------------------------------------------

    @task
    def act(self) -> None:
        # The kind furthest behind its share of the requests planned so far (all users of this
        # process together), so the mix holds in a short run too, not only on average.
        kind = min(self.kinds, key=lambda k: (PLANNED[k] + PER_ACTION[k]) / SHARES.get(k, 1))
        PLANNED[kind] += PER_ACTION[kind]
        with contextlib.suppress(BadPage):  # already counted as a failed request
            getattr(self, kind)()

    def healthz(self) -> None:
        self._get(self.client, "/healthz", "healthz")

    def portal(self) -> None:
        unit = random.choice(self.units)
        base = f"/p/{unit['id']}/"
        pages = [
            (30, base, "portal: home"),
            (15, base + "learn/", "portal: lessons"),
            (15, base + "help/", "portal: help now"),
            (10, base + "assess/", "portal: questionnaires"),
            (5, base + "assess/phq9/", "portal: PHQ-9 consent"),
            (10, base + "book/", "portal: booking"),
        ]
        if unit["lessons"]:
            lesson = random.choice(unit["lessons"])
            pages.append((15, f"{base}learn/{lesson}/", "portal: an article"))
        weights, paths, names = zip(*pages, strict=True)
        i = random.choices(range(len(paths)), weights)[0]
        # A phone that read a page leaves with its cookies; the next visitor has none.
        self.client.cookiejar.clear()
        self._get(self.client, paths[i], names[i], expect="</html>")

    def submit(self) -> None:
        self.client.cookiejar.clear()  # a new respondent
        if next(FLOWS) % 2 == 0:
            self._submit_portal()
        else:
            self._submit_campaign()
        _done_flows[0] += 1

    def _submit_portal(self) -> None:
        unit = random.choice(self.units)
        base = f"/p/{unit['id']}/assess/phq9/"
        c = self.client
        page = self._get(c, base, "submit: consent", expect='name="agree"')
        consent = {
            **self._hidden(page, "agree"),
            "under_14": "no",
            "respondent": "self",
            "agree": "on",
        }
        where = self._post(c, base + "begin/", "submit: agree (POST)", consent)
        page = self._get(c, where, "submit: question", expect='name="number"')
        for number, value in [*enumerate(PHQ9, start=1), (10, None)]:
            answer: dict[str, Any] = {**self._hidden(page, "number"), "number": number}
            answer |= {"skip": "1"} if value is None else {"answer": value}
            where = self._post(c, base + "answer/", "submit: answer (POST)", answer)
            if number < 10:
                page = self._get(c, where, "submit: question", expect='name="number"')
        if not where.endswith("/result/"):
            _fail("submit: result", BadPage(f"the last answer led to {where}"))
            return
        self._get(c, where, "submit: result (portal)")

    def _submit_campaign(self) -> None:
        base = f"/s/{WORLD['token']}/"
        c = self.client
        page = self._get(c, base, "submit: consent", expect='name="agree"')
        consent = {**self._hidden(page, "agree"), "respondent": "self", "agree": "on"}
        where = self._post(c, base + "begin", "submit: agree (POST)", consent)
        page = self._get(c, where, "submit: question", expect='name="number"')
        for number, value in [*enumerate(PHQ9, start=1), (10, None)]:
            answer: dict[str, Any] = {**self._hidden(page, "number"), "number": number}
            answer |= {"skip": "1"} if value is None else {"answer": value}
            where = self._post(c, base + "answer", "submit: answer (POST)", answer)
            if number < 10:
                page = self._get(c, where, "submit: question", expect='name="number"')
        if not where.endswith("/done"):
            _fail("submit: result", BadPage(f"the last answer led to {where}"))
            return
        self._get(c, where, "submit: result (campaign link)")

    def staff(self) -> None:
        roll = random.random()
        if roll < 0.4:
            self._get(self.worker_client, "/people/", "staff: people list")
        elif roll < 0.8:
            person = random.choice(self.staff_person_ids)
            self._get(self.worker_client, f"/people/{person}/", "staff: person file")
        else:
            self._get(self.worker_client, "/followups/", "staff: follow-ups due")

    def hotline(self) -> None:
        c = self.operator_client
        page = self._get(c, "/hotline/calls/new/", "hotline: call form", expect="caller_type")
        hidden = self._hidden(page, "caller_type")
        started = STARTED_AT.search(page)
        centre = hidden.get("centre") or (CENTRE.search(page) or [None, None])[1]
        if started is None or not centre:
            _fail("hotline: call form", BadPage("no start time or centre on the call form"))
            return
        call = {
            **hidden,
            "centre": centre,
            "caller_type": "self",
            "caller_sex": "female",
            "age_band": "25_34",
            "caller_group": "",
            "area": "",
            "problems": ["negative_emotion.anxiety", "isolation_stress"],
            "risk": "none",
            "interventions": ["support"],
            "referral": "none",
            "callback_at": "",
            "callback_phone": "",
            "notes": "",
            "person": "",
            "started_at": started.group(1) or started.group(2),
            "ended_at": "",
        }
        where = self._post(c, "/hotline/calls/new/", "hotline: log a call (POST)", call)
        self._get(c, where, "hotline: the call's page")
