"""Who sees and edits articles: one place, 404 outside scope (DESIGN.md, issue #8 item 3).

Editors are users with ``Action.CONTENT_EDIT``. They see the articles of the units in their
scope and every built-in article (the starter set is the platform's, every editor may read it).
Built-in articles are changed only by an editor whose scope includes the root unit — the city
the city portal falls back to (``root_unit``): a community worker may read the starter set but
not rewrite the city's text. Articles hold no personal data, so reads are not access-logged.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from xinqiao.content.models import Article
from xinqiao.orgs.models import Unit
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import can, get_or_404, scope_paths, scoped


def root_unit() -> Unit | None:
    """The city at the root of the tree (the first active one, as the city portal)."""
    return Unit.objects.filter(parent__isnull=True, is_active=True).order_by("created_at").first()


def is_editor(user: Any) -> bool:
    return can(user, Action.CONTENT_EDIT)


def articles_in_scope(user: Any) -> QuerySet[Article]:
    """Built-ins for every editor, plus the articles of units in the user's editing scope."""
    base = Article.objects.select_related("unit__parent", "created_by", "updated_by")
    if not scope_paths(user, Action.CONTENT_EDIT):
        return base.none()
    local = scoped(Article.objects.filter(unit__isnull=False), user, Action.CONTENT_EDIT)
    return base.filter(Q(unit__isnull=True) | Q(pk__in=local.values("pk")))


def access_article(user: Any, article_id: Any) -> Article:
    """The article, if ``user`` may read it as an editor; 404 otherwise (missing or not theirs)."""
    return get_or_404(articles_in_scope(user), article_id)


def can_change(user: Any, article: Article) -> bool:
    """Edit, publish, schedule or withdraw: in scope; a built-in only from the root unit."""
    if article.unit_id is None:
        root = root_unit()
        return root is not None and can(user, Action.CONTENT_EDIT, root)
    return article.unit is not None and can(user, Action.CONTENT_EDIT, article.unit)


def require_change(user: Any, article: Article) -> None:
    if not can_change(user, article):
        raise PermissionDenied(
            _("Built-in articles can only be changed by the city's administrators.")
            if article.unit_id is None
            else _("You do not have permission to do this.")
        )


def editable_units(user: Any) -> QuerySet[Unit]:
    """Units an editor may publish for (their scope, active units only)."""
    return scoped(Unit.objects.filter(is_active=True), user, Action.CONTENT_EDIT)


def require_editor(user: Any) -> None:
    if not is_editor(user):
        raise Http404
