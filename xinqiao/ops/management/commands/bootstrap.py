from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from xinqiao.accounts.actions import create_staff
from xinqiao.orgs.actions import create_unit
from xinqiao.orgs.models import Profession, Unit, UnitKind
from xinqiao.orgs.permissions import Role


class Command(BaseCommand):
    help = "Create the root unit (the city or county) and its first system administrator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", required=True, help="name of the city or county")
        parser.add_argument("--admin", required=True, help="username of the administrator")
        parser.add_argument("--name", required=True, help="the administrator's full name")

    def handle(self, *args: Any, **options: Any) -> None:
        if Unit.objects.filter(parent__isnull=True).exists():
            raise CommandError("the org tree already has a root")
        password = os.environ.get("XINQIAO_ADMIN_PASSWORD") or getpass.getpass("Password: ")
        try:
            with transaction.atomic():
                city = create_unit(
                    acting_user=None, kind=UnitKind.CITY, name=options["city"], parent=None
                )
                create_staff(
                    acting_user=None,
                    username=options["admin"],
                    name=options["name"],
                    password=password,
                    unit=city,
                    role=Role.SYSTEM_ADMIN,
                    profession=Profession.CIVIL_SERVANT,
                )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stdout.write(f"created {city.name} and administrator {options['admin']}")
