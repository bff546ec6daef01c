"""Sign-in, lockout, rate limit, second factor, session timeout and API tokens."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinqiao.accounts.models import ApiToken
from xinqiao.test import PASSWORD, PersonaTestCase, confirmed_device


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


class LoginTests(PersonaTestCase):
    def setUp(self):
        cache.clear()

    def login(self, client, username, password, **extra):
        return client.post(
            "/accounts/login/", {"username": username, "password": password}, **extra
        )

    def test_good_password_signs_in_and_lands_on_the_workbench(self):
        client = Client()
        response = self.login(client, "c1_counsellor", PASSWORD)
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        self.assertEqual(client.get("/").status_code, 200)

    def test_lockout_after_repeated_failures_even_with_the_right_password(self):
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            response = self.login(client, "c1_counsellor", "wrong-password")
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, "error")
        self.assertEqual(self.login(client, "c1_counsellor", "wrong-password").status_code, 429)
        locked = self.login(client, "c1_counsellor", PASSWORD)
        self.assertEqual(locked.status_code, 429)
        self.assertContains(locked, "15", status_code=429)
        # Another address does not help: the lock is on the account.
        other = self.login(Client(), "c1_counsellor", PASSWORD, REMOTE_ADDR="10.0.0.99")
        self.assertEqual(other.status_code, 429)
        # The API is locked as well.
        api = Client().post(
            "/api/v1/auth/token",
            {"username": "c1_counsellor", "password": PASSWORD},
            content_type="application/json",
        )
        self.assertEqual(api.status_code, 429)
        # Other accounts are not affected.
        self.assertEqual(self.login(Client(), "c2_counsellor", PASSWORD).status_code, 302)

    def test_lock_expires_after_the_cool_off(self):
        client = Client()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            self.login(client, "c1_counsellor", "wrong-password")
        self.assertEqual(self.login(client, "c1_counsellor", PASSWORD).status_code, 429)
        with time_machine.travel(
            timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
        ):
            self.assertEqual(self.login(Client(), "c1_counsellor", PASSWORD).status_code, 302)

    def test_administrator_can_clear_a_lockout(self):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            self.login(Client(), "c1_counsellor", "wrong-password")
        admin = self.client_for(self.street_admin)
        admin.post(f"/org/staff/{self.c1_counsellor.pk}/unlock/")
        self.assertEqual(self.login(Client(), "c1_counsellor", PASSWORD).status_code, 302)

    @override_settings(XINQIAO_LOGIN_RATE_PER_MINUTE=3)
    def test_attempts_per_address_are_rate_limited(self):
        client = Client()
        names = ["c1_worker", "c2_counsellor", "hotline1", "teacher1"]
        statuses = [
            self.login(client, n, "wrong", REMOTE_ADDR="10.7.7.7").status_code for n in names
        ]
        self.assertEqual(statuses[:3], [200, 200, 200])
        self.assertEqual(statuses[3], 429)

    def test_bad_credentials_give_a_translated_message_not_a_trace(self):
        response = self.login(Client(), "nobody", "whatever")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "用户名")

    def test_session_times_out(self):
        self.assertLessEqual(settings.SESSION_COOKIE_AGE, 3600)
        client = Client()
        self.login(client, "c1_counsellor", PASSWORD)
        with time_machine.travel(
            timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
        ):
            response = client.get("/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/accounts/login/"))


class SecondFactorTests(PersonaTestCase):
    def setUp(self):
        cache.clear()

    def test_administrator_must_enrol_before_doing_anything(self):
        client = Client()
        client.post("/accounts/login/", {"username": "city_admin", "password": PASSWORD})
        response = client.get("/org/units/")
        self.assertRedirects(response, "/accounts/2fa/setup/", fetch_redirect_response=False)
        self.assertEqual(client.get("/api/v1/units/").status_code, 403)
        page = client.get("/accounts/2fa/setup/")
        self.assertContains(page, "<svg")
        device = TOTPDevice.objects.get(user=self.city_admin, confirmed=False)
        wrong = "111111" if current_code(device) == "000000" else "000000"
        bad = client.post("/accounts/2fa/setup/", {"token": wrong})
        self.assertEqual(bad.status_code, 200)
        # django-otp throttles after a wrong code; the next one is accepted seconds later.
        with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
            ok = client.post("/accounts/2fa/setup/", {"token": current_code(device)})
        self.assertEqual(ok.status_code, 302)
        self.assertEqual(client.get("/org/units/").status_code, 200)

    def test_enrolled_user_must_verify_at_each_sign_in(self):
        device = confirmed_device(self.street_admin)
        client = Client()
        client.post("/accounts/login/", {"username": "s1_admin", "password": PASSWORD})
        self.assertRedirects(
            client.get("/"), "/accounts/2fa/verify/", fetch_redirect_response=False
        )
        client.post("/accounts/2fa/verify/", {"token": current_code(device)})
        self.assertEqual(client.get("/").status_code, 200)

    def test_frontline_staff_may_skip_the_second_factor(self):
        client = Client()
        client.post("/accounts/login/", {"username": "c1_counsellor", "password": PASSWORD})
        self.assertEqual(client.get("/").status_code, 200)


class ApiTokenTests(PersonaTestCase):
    def setUp(self):
        cache.clear()

    def obtain(self, **data):
        return Client().post("/api/v1/auth/token", data, content_type="application/json")

    def test_token_flow(self):
        response = self.obtain(username="c1_counsellor", password=PASSWORD)
        self.assertEqual(response.status_code, 200)
        token = response.json()["token"]
        api = Client(HTTP_AUTHORIZATION=f"Token {token}")
        me = api.get("/api/v1/me").json()
        self.assertEqual(me["username"], "c1_counsellor")
        stored = ApiToken.objects.get(user=self.c1_counsellor)
        self.assertNotEqual(stored.digest, token)
        self.assertNotIn(token, stored.digest)
        Client().get("/")
        stored.revoked_at = timezone.now()
        stored.save()
        self.assertEqual(api.get("/api/v1/me").status_code, 401)

    def test_expired_token_is_refused(self):
        token = self.obtain(username="c1_counsellor", password=PASSWORD).json()["token"]
        with time_machine.travel(
            timezone.now() + timedelta(days=settings.XINQIAO_API_TOKEN_DAYS + 1)
        ):
            response = Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me")
        self.assertEqual(response.status_code, 401)

    def test_bad_input_is_a_400_naming_the_field(self):
        response = self.obtain(username="c1_counsellor")
        self.assertEqual(response.status_code, 400)
        self.assertIn("password", response.json())
        wrong = self.obtain(username="c1_counsellor", password="nope")
        self.assertEqual(wrong.status_code, 400)
        self.assertIn("non_field_errors", wrong.json())

    def test_administrators_need_their_totp_code(self):
        refused = self.obtain(username="city_admin", password=PASSWORD)
        self.assertEqual(refused.status_code, 403)
        self.assertIn("otp", refused.json())
        device = confirmed_device(self.city_admin)
        missing = self.obtain(username="city_admin", password=PASSWORD)
        self.assertEqual(missing.status_code, 400)
        ok = self.obtain(username="city_admin", password=PASSWORD, otp=current_code(device))
        self.assertEqual(ok.status_code, 200)

    def test_tokens_page_creates_and_revokes_own_tokens_only(self):
        client = self.client_for(self.c1_counsellor)
        page = client.post("/accounts/tokens/", {"name": "报表脚本", "days": 30})
        self.assertEqual(page.status_code, 200)
        raw = page.context["new_token"]
        self.assertTrue(raw.startswith("xq_"))
        token = ApiToken.objects.get(user=self.c1_counsellor, name="报表脚本")
        other = self.client_for(self.c2_counsellor)
        self.assertEqual(other.post(f"/accounts/tokens/{token.pk}/revoke/").status_code, 404)
        client.post(f"/accounts/tokens/{token.pk}/revoke/")
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)

    def test_volunteers_have_no_api(self):
        self.assertEqual(self.client_for(self.volunteer).get("/accounts/tokens/").status_code, 404)
