"""Export of a person list the user can see, to Excel (R-REG; R-PRIVACY de-identified exports).

De-identified unless the user's role allows names (``person.export_names``): then the sheet has
no name, document number, phone or address, birth dates are reduced to the year, and each row
carries a pseudonymous code instead (the first 8 characters of the file's id, meaningful only
inside Xinqiao). Note that de-identified data is still personal information (PIPL Art. 73).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.people.models import Person, TargetGroup


def workbook(people: Iterable[Person], *, with_names: bool) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Person files"))
    header = [
        _("Code"),
        _("Sex"),
        _("Year of birth"),
        _("Unit"),
        _("Target groups"),
        _("Priority level"),
        _("Status"),
        _("Registered on"),
    ]
    if with_names:
        header = [_("Full name"), _("Document number"), _("Phone"), _("Address"), *header]
    sheet.append(header)
    today = timezone.localdate()
    for person in people:
        groups = "、".join(
            str(TargetGroup(g.group).label) for g in person.groups.all() if g.is_current(today)
        )
        row: list[object] = [
            str(person.pk)[:8],
            person.get_sex_display(),
            person.birth_date.year if person.birth_date else "",
            person.unit.full_name,
            groups,
            person.priority_level,
            person.get_status_display(),
            timezone.localtime(person.created_at).date().isoformat(),
        ]
        if with_names:
            row = [person.name, person.id_number, person.phone, person.address, *row]
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
