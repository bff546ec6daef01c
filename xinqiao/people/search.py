"""A staff search of person files, kept out of every URL (issue #10 item 9, "no secret in logs";
"Never log personal data", CONTRIBUTING.md).

A name, ID number or phone typed into the search box would, as a GET parameter, sit in the URL
— in the server's and every proxy's access log, the browser history, and the Referer header of
the next request. So the search form is POSTed (with its CSRF token), the query is kept here,
in the user's session, under a short random token, and the list is shown at
``/people/?s=<token>``: paging, the filters and the back button keep working, the URL holds the
token only. The session row is a database row like any other, so the query is sealed with the
data key (AES-GCM, ``xinqiao.lib.crypto``) rather than stored in clear; it goes with the session
(sign-out, idle timeout, browser closed) and only the last few searches are kept.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from xinqiao.fields import keyring
from xinqiao.lib.crypto import DecryptionError

# Personal: never in a URL. The other filters (priority level, target group, status, page)
# say nothing about one person and stay GET parameters.
SEARCH_FIELDS = ("q", "lookup")
FILTER_FIELDS = ("priority", "group", "status")

SESSION_KEY = "people_searches"
KEPT = 5  # the last few searches: enough for the back button, not a history of who was sought
_CONTEXT = "people.search"


def remember(session: Any, search: dict[str, str]) -> str:
    """Keep ``search`` (the non-empty ``SEARCH_FIELDS``) in ``session``; the token to show it."""
    token = secrets.token_urlsafe(9)
    kept = dict(session.get(SESSION_KEY) or {})
    kept[token] = keyring().encrypt(json.dumps(search), context=_CONTEXT)
    session[SESSION_KEY] = dict(list(kept.items())[-KEPT:])
    return token


def recall(session: Any, token: str) -> dict[str, str] | None:
    """The search kept under ``token`` in this session, or None (unknown, dropped, expired with
    the session, or sealed with a key no longer in the keyring)."""
    sealed = (session.get(SESSION_KEY) or {}).get(token)
    if not isinstance(sealed, str):
        return None
    try:
        search = json.loads(keyring().decrypt(sealed, context=_CONTEXT))
    except (DecryptionError, ValueError):
        return None
    if not isinstance(search, dict):
        return None
    return {field: str(search[field]) for field in SEARCH_FIELDS if field in search}
