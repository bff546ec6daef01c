"""Sections that later capabilities add to a person's file page (assessments, risk, …).

Each section is a template and a function giving its context for one viewer and one file, or
None when the viewer may not see it. The people app knows nothing of the apps that plug in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from xinqiao.people.models import Person


@dataclass(frozen=True)
class FileSection:
    name: str
    template: str
    context: Callable[[HttpRequest, Person], dict[str, Any] | None]


FILE_SECTIONS: list[FileSection] = []


def register(section: FileSection) -> None:
    if all(s.name != section.name for s in FILE_SECTIONS):
        FILE_SECTIONS.append(section)


def sections_for(request: HttpRequest, person: Person) -> list[dict[str, Any]]:
    shown = []
    for section in FILE_SECTIONS:
        context = section.context(request, person)
        if context is not None:
            shown.append({"template": section.template, "data": context})
    return shown
