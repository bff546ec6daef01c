"""Settings and secrets: Argon2, key files, production refusals (issue #2 item 8)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from xinqiao.lib.env import ConfigError, envbool, envint
from xinqiao.lib.keys import file_mode, read_or_create_key_file

REPO = Path(__file__).resolve().parent.parent
SAFE_KEY = "vK3#pQ8zR1@xT6&mN4^bW9!cY2*dF7$hJ5%lG0+sA-eU_iO~Zr8Lq4"  # for the subprocess only


def _python(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("XINQIAO", "DATABASE", "DJANGO"))
    }
    full_env.update(
        {"XINQIAO_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "xinqiao.settings"}
    )
    full_env.update(env)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env=full_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_argon2_is_the_password_hasher_outside_tests(tmp_path):
    result = _python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.PASSWORD_HASHERS[0])",
        {},
        tmp_path,
    )
    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_embedded_default_creates_private_key_files(tmp_path):
    result = _python("import django; django.setup()", {}, tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("secret_key", "data_key"):
        path = tmp_path / "keys" / name
        assert file_mode(path) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    # The same keys are read back on the next start.
    before = (tmp_path / "keys" / "data_key").read_text()
    _python("import django; django.setup()", {}, tmp_path)
    assert (tmp_path / "keys" / "data_key").read_text() == before


# Production sends the public's sign-in codes through the SMS gateway (never the console).
PUBLIC_SMS = {
    "XINQIAO_PUBLIC_SMS": "http",
    "XINQIAO_SMS_URL": "https://sms.example.org/send",
    "XINQIAO_SMS_TOKEN": "t" * 32,
}


def test_key_file_helper_never_overwrites(tmp_path):
    path = tmp_path / "k"
    first = read_or_create_key_file(path)
    assert read_or_create_key_file(path) == first


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, "SECRET_KEY"),
        ({"XINQIAO_DATA_KEY": ""}, "XINQIAO_DATA_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"XINQIAO_PUBLIC_SMS": "console"}, "XINQIAO_PUBLIC_SMS=console"),
        ({"XINQIAO_SMS_TOKEN": ""}, "XINQIAO_PUBLIC_SMS=http needs"),
    ],
)
def test_production_refuses_unsafe_configuration(tmp_path, env, message):
    good = {
        "XINQIAO_ENV": "production",
        "SECRET_KEY": SAFE_KEY,
        "XINQIAO_DATA_KEY": "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "ALLOWED_HOSTS": "xinqiao.example.org",
        **PUBLIC_SMS,
    }
    result = _python("import django; django.setup()", {**good, **env}, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_check_deploy_warnings(tmp_path):
    env = {
        "XINQIAO_ENV": "production",
        "SECRET_KEY": SAFE_KEY,
        "XINQIAO_DATA_KEY": "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
        "ALLOWED_HOSTS": "xinqiao.example.org",
        "SECURE_HSTS_SECONDS": "0",
        **PUBLIC_SMS,
    }
    result = _python("import xinqiao.wsgi", env, tmp_path)
    assert result.returncode != 0
    assert "check --deploy" in result.stderr
    assert "security.W004" in result.stderr
    env["SECURE_HSTS_SECONDS"] = "31536000"
    result = _python("import xinqiao.wsgi; print('started')", env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_database_url_switches_engine(tmp_path):
    result = _python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'])",
        {"DATABASE_URL": "postgres://root@127.0.0.1:5432/test"},
        tmp_path,
    )
    assert result.stdout.strip() == "django.db.backends.postgresql"


def test_env_helpers_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ConfigError, match="X_BOOL"):
        envbool("X_BOOL", False)
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ConfigError, match="X_INT"):
        envint("X_INT", 1)


def test_defaults_that_matter():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.XINQIAO_SMALL_CELL_THRESHOLD == 5


def test_suite_runs_on_the_expected_database():
    """`.ci/run` sets XINQIAO_EXPECT_DB so a silently ignored DATABASE_URL fails the run."""
    from django.db import connection

    expected = os.environ.get("XINQIAO_EXPECT_DB")
    if expected:
        assert connection.vendor == expected
