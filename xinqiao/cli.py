"""The ``xinqiao`` console script: every management command, with our settings.

``xinqiao run`` (embedded default), ``xinqiao worker``, ``xinqiao demo``,
``xinqiao bootstrap``, ``xinqiao permissions_doc``, and Django's own (``migrate``, …).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinqiao.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    aliases = {"permissions-doc": "permissions_doc"}
    if args:
        args[0] = aliases.get(args[0], args[0])
    execute_from_command_line(["xinqiao", *args])


if __name__ == "__main__":
    main()
