"""PDF documents from templates (WeasyPrint), shared by every capability that prints."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def render_pdf(template: str, context: dict[str, object]) -> bytes:
    """Render an HTML template to PDF. Chinese needs a CJK font installed (Debian's
    fonts-wqy-microhei or fonts-noto-cjk; `make test` and `make run` install one)."""
    from weasyprint import HTML

    document: bytes = HTML(string=render_to_string(template, context)).write_pdf()
    return document


def pdf_response(
    request: HttpRequest, template: str, context: dict[str, object], filename: str
) -> HttpResponse:
    """The PDF as a download, or a page saying why it cannot be made (503) when WeasyPrint
    has no Pango on this server."""
    try:
        document = render_pdf(template, context)
    except OSError:
        return render(request, "no_pdf.html", status=503)
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
