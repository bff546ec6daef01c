"""Objects and rules of the scope matrix (tests/test_scope_matrix.py) for the education app
(issue #8 item 3)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from xinqiao.content import actions
from xinqiao.content.actions import ArticleText
from xinqiao.content.demo import silent_wav
from xinqiao.content.models import Kind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can


def objects(*, unit: Any, person: Any, staff: Any) -> dict[str, Any]:
    """``article_id`` → a draft lesson of ``unit`` with an uploaded audio file, written by
    ``staff`` (the unit's counsellor, an editor). A draft, so that its page and its media are
    scoped (a published lesson's media is public by design: tests/test_content.py)."""
    lesson = actions.create_article(
        acting_user=staff,
        unit=unit,
        kind=Kind.LESSON,
        text=ArticleText(title_zh="矩阵微课", transcript_zh="矩阵文字稿"),
        media=SimpleUploadedFile("matrix.wav", silent_wav(seconds=1), content_type="audio/wav"),
    )
    return {"article_id": lesson}


def skip_inside(route: str, user: Any) -> bool:
    """Education pages are for editors (CONTENT_EDIT); others get 403 on the lists and 404 on
    an article, even inside their units (tests/test_content.py)."""
    return route.startswith("/content/") and not can(user, Action.CONTENT_EDIT)
