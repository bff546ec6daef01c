"""Platform plumbing: demo data, permissions doc, worker jobs, the one-command run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from xinqiao.accounts.models import User
from xinqiao.ops.demo import build_demo_city
from xinqiao.ops.management.commands.permissions_doc import DOC, rendered
from xinqiao.ops.models import WorkerHeartbeat
from xinqiao.ops.tasks import beat, heartbeat
from xinqiao.orgs.models import Membership, Unit, UnitKind
from xinqiao.orgs.permissions import ROLE_UNIT_KINDS, Role
from xinqiao.people.models import Person

REPO = Path(__file__).resolve().parent.parent


def _snapshot() -> tuple[list[tuple[str, str]], list[tuple[str, str, str]], list[tuple]]:
    units = sorted(Unit.objects.values_list("kind", "name"))
    staff = sorted(Membership.objects.values_list("user__username", "user__name", "role"))
    # Unnamed files of anonymous callers and writers at risk are named by the contact's
    # reference, which is random by design (an unguessable code): counted, not compared.
    files = sorted(
        (p.name, p.id_number, p.unit.name, p.priority_level, p.is_deceased)
        for p in Person.objects.select_related("unit").filter(unnamed_contact=False)
    )
    files.append(("unnamed", Person.objects.filter(unnamed_contact=True).count()))
    return units, staff, files


@pytest.mark.django_db
def test_demo_city_shape_and_determinism():
    with transaction.atomic():
        demo = build_demo_city(seed=7, people_per_community=3)
        first = _snapshot()
        transaction.set_rollback(True)
    demo = build_demo_city(seed=7, people_per_community=3)
    assert _snapshot() == first
    # 3 per community, plus the file the demo light account opened by booking on the portal.
    assert Person.objects.filter(is_deceased=False, unnamed_contact=False).count() == 24 + 1
    assert not Person.objects.filter(unnamed_contact=True).exclude(id_number="").exists()
    assert all(p.id_number.startswith("99") for p in Person.objects.exclude(id_number=""))
    kinds = {k: Unit.objects.filter(kind=k).count() for k in UnitKind.values}
    assert kinds["city"] == 1
    assert kinds["district"] == 2
    assert kinds["street"] == 4
    assert kinds["community"] == 8
    assert kinds["grid"] == 16
    for kind in (
        "designated_hospital",
        "psychiatric_institution",
        "school",
        "hotline_centre",
        "service_station",
        "civil_affairs",
    ):
        assert kinds[kind] == 1, kind
    held = set(Membership.objects.values_list("role", flat=True))
    assert held == set(Role.values), "every role has a demo login"
    for username in ("city_admin", "c1_counsellor", "c2_counsellor", "hotline1"):
        assert User.objects.get(username=username).check_password("xinqiao-demo")
    for m in Membership.objects.select_related("unit"):
        assert m.unit.kind in ROLE_UNIT_KINDS[Role(m.role)]
    assert demo.users["c1_counsellor"].memberships.get().unit.name == "春晖社区"


def test_permissions_doc_is_generated_from_the_table():
    assert DOC.read_text(encoding="utf-8") == rendered(), "run `xinqiao permissions_doc`"
    for role in Role:
        assert f"`{role.value}`" in rendered()


@pytest.mark.django_db
def test_heartbeat_job_records_the_worker():
    heartbeat.call_local()
    row = WorkerHeartbeat.objects.get()
    first = row.last_seen
    beat()
    row.refresh_from_db()
    assert row.last_seen >= first


@pytest.mark.django_db
def test_demo_command_refuses_a_non_empty_database():
    from django.core.management.base import CommandError

    call_command("demo")
    with pytest.raises(CommandError):
        call_command("demo")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.enable_socket
def test_run_command_serves_the_site_and_starts_the_worker(tmp_path):
    """`xinqiao run` on a fresh data directory: migrates, loads the demo, prints the logins,
    serves on XINQIAO_PORT and starts a worker that reports its heartbeat."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XINQIAO", "DATABASE"))}
    env.update(
        {"XINQIAO_DATA_DIR": str(tmp_path), "XINQIAO_PORT": str(port), "XINQIAO_TESTING": "1"}
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "xinqiao.cli", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert '"ok"' in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as r:
            assert "登录" in r.read().decode()
        db = tmp_path / "xinqiao.sqlite3"
        import sqlite3

        for _ in range(60):
            with sqlite3.connect(db) as conn:
                if conn.execute("select count(*) from ops_workerheartbeat").fetchone()[0]:
                    break
            time.sleep(0.5)
        else:
            pytest.fail("the worker never reported")
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in output
    for login in ("city_admin", "c1_counsellor", "c2_counsellor", "hotline1", "xinqiao-demo"):
        assert login in output
