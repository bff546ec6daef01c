"""What every test shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _language_reset() -> Iterator[None]:
    """A request in English (Accept-Language: en) leaves English active in the thread; the next
    test starts again in the default language, whatever order the tests run in."""
    yield
    translation.deactivate()
