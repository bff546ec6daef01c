"""Objects and rules of the scope matrix (tests/test_scope_matrix.py) for this app (issue #8)."""

from __future__ import annotations

from typing import Any


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    return {}


def skip_inside(route: str, user: Any) -> bool:
    # The public portal has its own credentials (tests/test_portal*.py).
    return route.startswith("/p/")
