"""``xinqiao run``: the embedded default in one command.

Migrates, collects static files, loads the demo city on first run, prints the address and the
demo logins, starts the background worker as a child process and serves the site with waitress
until interrupted (the worker is stopped with it).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinqiao.ops.demo import DEMO_LOGINS, DEMO_PASSWORD, build_demo_city
from xinqiao.orgs.models import Unit


class Command(BaseCommand):
    help = "Run the platform (web server and background worker) on the embedded default."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data")
        parser.add_argument("--no-worker", action="store_true", help="do not start the worker")
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "`xinqiao run` is the embedded default; in production run gunicorn and "
                "`xinqiao worker` (docs/deployment.md)"
            )
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        demo_loaded = False
        if not options["no_demo"] and not Unit.objects.exists():
            self.stdout.write("first run: loading the demo city …")
            build_demo_city(people_per_community=40)
            demo_loaded = True
        worker = None
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "xinqiao.cli", "worker"])
        port = settings.XINQIAO_PORT
        self.stdout.write("")
        self.stdout.write(f"Xinqiao is running at http://127.0.0.1:{port}/")
        self.stdout.write(f"data directory: {settings.DATA_DIR}")
        if demo_loaded or Unit.objects.filter(name="心桥市").exists():
            self.stdout.write(f"demo logins (password {DEMO_PASSWORD}):")
            for username, what in DEMO_LOGINS:
                self.stdout.write(f"  {username:<15} {what}")
            from xinqiao.portal.demo_accounts import DEMO_PHONE

            self.stdout.write(
                f"public portal (no login): http://127.0.0.1:{port}/p/ — on 春晖社区's portal, "
                f"'my page' signs in with {DEMO_PHONE}; the code is printed here"
            )
        self.stdout.write("press Ctrl+C to stop")

        def stop(*_args: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            from waitress import serve

            from xinqiao.wsgi import application

            serve(
                application,
                host="127.0.0.1",
                port=port,
                threads=options["threads"],
                ident="xinqiao",
                _quiet=True,
            )
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
