"""Media of lessons (``content:media``): public once published, editors only before."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_safe

from xinqiao.content.access import access_article
from xinqiao.content.media import serve_media
from xinqiao.content.models import Article


@require_safe
def media(request: HttpRequest, article_id: uuid.UUID) -> HttpResponseBase:
    """The lesson's file with range support. A published lesson's media is public by design
    (the portal needs no account); a draft's or a withdrawn one's is 404 except for editors in
    scope."""
    article = Article.objects.filter(pk=article_id).exclude(media="").first()
    if article is None:
        raise Http404
    public = article.is_visible(timezone.now())
    if not public:
        article = access_article(request.user, article_id)
        if not article.media:
            raise Http404
    response = serve_media(request, article.media, article.media_type or "application/octet-stream")
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response
