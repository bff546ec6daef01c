"""Test configuration. The README's test command (``make test``) exports XINQIAO_TESTING=1
and a throw-away XINQIAO_DATA_DIR before Django starts; see the Makefile."""

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in tests
