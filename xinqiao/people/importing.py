"""Bulk import of person files from .xlsx and .csv (R-REG "Bulk import from Excel/CSV").

Two passes over the file: ``check`` reports every row's problems (row, column, reason) without
writing anything; ``run_import`` writes — every row or none (the default), or only the valid
ones. Both run as jobs in the database outbox (``people/tasks.py``, ``xinqiao.ops.jobs``) so a
100,000-row file never holds a web request, and a worker killed in the middle leaves the job to
another that resumes it. The uploaded file is stored encrypted in the data directory and deleted
once the outcome is committed.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.fields import keyring
from xinqiao.lib.storage import write_file
from xinqiao.ops.jobs import extend_lease
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import scoped
from xinqiao.people.actions import (
    NUMBER_PROBLEMS,
    clean_phone,
    id_index,
    id_indexes,
    phone_index,
)
from xinqiao.people.idcard import InvalidNumber, normalise_id_number, parse_resident_id
from xinqiao.people.models import (
    EventKind,
    GroupMembership,
    IdType,
    ImportJob,
    ImportMode,
    ImportStatus,
    Person,
    PersonEvent,
    Sex,
    TargetGroup,
)
from xinqiao.people.priority import priority_level
from xinqiao.reports.models import SNAPSHOT_DAY

MAX_UPLOAD_BYTES = 30 * 1024 * 1024  # a 100,000-row sheet is about 8 MB
MAX_ROWS = 200_000
MAX_REPORTED_ERRORS = 10_000
BATCH = 2_000

# The template's columns, in order: (Chinese header, key, required).
COLUMNS: list[tuple[str, str, bool]] = [
    ("姓名", "name", True),
    ("性别", "sex", False),
    ("出生日期", "birth_date", False),
    ("证件类型", "id_type", False),
    ("证件号码", "id_number", False),
    ("联系电话", "phone", False),
    ("现住址", "address", False),
    ("所属单位", "unit", True),
    ("网格", "grid", False),
    ("民族", "ethnicity", False),
    ("人群类别", "groups", False),
    ("备注", "notes", False),
]
HEADER_KEYS = {header: key for header, key, _required in COLUMNS}
HEADERS = {key: header for header, key, _required in COLUMNS}

SEX_WORDS = {
    "男": Sex.MALE,
    "女": Sex.FEMALE,
    "未知": Sex.UNKNOWN,
    "": Sex.UNKNOWN,
    "male": Sex.MALE,
    "female": Sex.FEMALE,
    "m": Sex.MALE,
    "f": Sex.FEMALE,
}
ID_TYPE_WORDS = {
    "居民身份证": IdType.RESIDENT_ID,
    "身份证": IdType.RESIDENT_ID,
    "护照": IdType.PASSPORT,
    "港澳居民居住证": IdType.HK_MACAO,
    "港澳居民来往内地通行证": IdType.HK_MACAO,
    "台湾居民居住证": IdType.TAIWAN,
    "台湾居民来往大陆通行证": IdType.TAIWAN,
    "外国人永久居留身份证": IdType.FOREIGN_PERMANENT,
    "其他": IdType.OTHER,
    "无": IdType.NONE,
}
GROUP_SPLIT = re.compile(r"[、;；,，/]+")


class FileProblem(ValueError):
    """The file as a whole cannot be read (format, encoding, headers, size)."""


# The words offices use for the target groups (seed 002 篇6 一; 篇1 二(二)(五); seed 004 四),
# the first of each being the one the template lists.
GROUP_NAMES: dict[str, list[str]] = {
    "confirmed_patient": ["确诊患者"],
    "cured_patient": ["治愈出院患者", "出院患者", "治愈患者"],
    "suspected_patient": ["疑似患者"],
    "close_contact": ["密切接触者", "隔离医学观察人员", "医学观察人员"],
    "family_of_patient": ["患者家属", "确诊患者家属"],
    "family_of_deceased": ["病亡者家属", "逝者家属"],
    "frontline_medical": ["一线医务人员", "一线医护人员"],
    "frontline_police_community": ["一线民警及社区工作者", "一线公安民警", "一线社区工作者"],
    "hardship": ["困难群众", "低保对象", "特困人员", "特殊困难老年人"],
    "child_in_difficulty": ["困境儿童", "留守儿童"],
    "disability": ["残疾人"],
    "women_special_period": ["特殊时期妇女", "孕产期妇女"],
    "student": ["学生"],
    "teacher": ["教师"],
    "special_population": ["特殊人群", "社区服刑人员", "刑满释放人员", "戒毒人员", "流浪乞讨人员"],
    "severe_mental_disorder": ["严重精神障碍患者"],
    "general_public": ["普通公众", "社会公众"],
}


def group_words() -> dict[str, str]:
    """Every accepted word for a target group (and the codes themselves) → code."""
    words = {group.value: group.value for group in TargetGroup}
    for code, names in GROUP_NAMES.items():
        for name in names:
            words[name] = code
    return words


# --- reading -------------------------------------------------------------------------------


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, common in Chinese offices)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem(_("The file is neither UTF-8 nor GBK/GB18030 text."))


def _cell_text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes, file_name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (spreadsheet row number, {key: text}); the header row is row 1."""
    suffix = Path(file_name).suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(data)
    elif suffix == ".csv":
        rows = csv.reader(io.StringIO(decode_csv(data)))
    else:
        raise FileProblem(_("Upload an .xlsx or .csv file."))
    try:
        header = next(iter(rows))
    except StopIteration:
        raise FileProblem(_("The file is empty.")) from None
    header = [_cell_text(h).rstrip("*＊").strip() for h in header]
    unknown = [h for h in header if h and h not in HEADER_KEYS]
    missing = [h for h, _key, required in COLUMNS if required and h not in header]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(_("missing columns: %(cols)s") % {"cols": "、".join(missing)})
        if unknown:
            parts.append(_("unknown columns: %(cols)s") % {"cols": "、".join(unknown)})
        raise FileProblem(
            _(
                "The headers do not match the template (%(problems)s). Download the template "
                "and copy your data into it."
            )
            % {"problems": "; ".join(parts)}
        )
    keys = [HEADER_KEYS.get(h) for h in header]
    for number, row in enumerate(rows, start=2):
        cells = list(row)
        if not any(_cell_text(c) for c in cells):
            continue
        if number - 1 > MAX_ROWS:
            raise FileProblem(_("The file has more than %(n)d rows; split it.") % {"n": MAX_ROWS})
        record = {}
        for key, value in zip(keys, cells, strict=False):
            if key:
                record[key] = value if isinstance(value, _Formula) else _cell_text(value)
        yield number, record


class _Formula(str):
    """A cell that holds a formula: reported as an error, never evaluated."""


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileProblem(_("This is not a readable .xlsx file.")) from exc
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield [_Formula(v) if isinstance(v, str) and v.startswith("=") else v for v in row]
    book.close()


# --- checking ------------------------------------------------------------------------------


@dataclass
class CleanRow:
    number: int
    unit: Unit
    values: dict[str, Any]
    groups: list[str]


@dataclass
class CheckResult:
    rows: list[CleanRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    error_rows: set[int] = field(default_factory=set)

    def add(self, row: int, key: str, reason: Any) -> None:
        self.error_rows.add(row)
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "column": HEADERS.get(key, key), "reason": str(reason)})


class UnitResolver:
    """Finds the unit a row names (by name or administrative code) within the importer's
    scope, and its grid."""

    def __init__(self, user: Any) -> None:
        units = list(scoped(Unit.objects.filter(is_active=True), user, Action.PERSON_IMPORT))
        self.by_code = {u.code: u for u in units if u.code}
        self.by_name: dict[str, list[Unit]] = {}
        for unit in units:
            self.by_name.setdefault(unit.name, []).append(unit)
        self.grids = {(u.parent_id, u.name): u for u in units if u.kind == UnitKind.GRID}

    def resolve(self, unit_text: str, grid_text: str) -> Unit:
        unit = self.by_code.get(unit_text)
        if unit is None:
            matches = self.by_name.get(unit_text, [])
            if not matches:
                raise ValidationError({"unit": _("Unknown unit, or not one you may import into.")})
            if len(matches) > 1:
                raise ValidationError(
                    {"unit": _("Several units have this name; use the administrative code.")}
                )
            unit = matches[0]
        if grid_text:
            grid = self.grids.get((unit.pk, grid_text))
            if grid is None:
                raise ValidationError({"grid": _("No such grid in this unit.")})
            return grid
        return unit


def _parse_date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 -- a calendar date
        except ValueError:
            continue
    raise ValidationError({"birth_date": _("Write dates as YYYY-MM-DD.")})


def check_row(
    number: int,
    record: dict[str, str],
    *,
    resolver: UnitResolver,
    words: dict[str, str],
    today: date,
) -> CleanRow:
    """Validate one row; raises ValidationError whose keys are column keys."""
    errors: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, _Formula):
            errors[key] = _("The cell contains a formula; paste values only.")
    if errors:
        raise ValidationError(errors)
    name = record.get("name", "")
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    sex_text = record.get("sex", "").lower()
    sex = SEX_WORDS.get(sex_text)
    if sex is None:
        errors["sex"] = _("Write 男, 女 or 未知.")
    birth: date | None = None
    try:
        birth = _parse_date(record.get("birth_date", ""))
        if birth and birth > today:
            errors["birth_date"] = _("The date of birth is in the future.")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    number_text = normalise_id_number(record.get("id_number", ""))
    type_text = record.get("id_type", "")
    id_type = (
        ID_TYPE_WORDS.get(type_text)
        if type_text
        else (IdType.RESIDENT_ID if number_text else IdType.NONE)
    )
    index: str | None = None
    if id_type is None:
        errors["id_type"] = _("Unknown document type.")
    elif id_type == IdType.RESIDENT_ID:
        if not number_text:
            errors["id_number"] = _("Enter the document number, or write 无 as its type.")
        else:
            try:
                parsed = parse_resident_id(number_text, today=today)
            except InvalidNumber as exc:
                errors["id_number"] = NUMBER_PROBLEMS[exc.code]
            else:
                if birth and birth != parsed.birth_date:
                    errors["birth_date"] = _("The date of birth does not match the ID number.")
                if sex and sex != Sex.UNKNOWN and sex != parsed.sex:
                    errors["sex"] = _("The sex does not match the ID number.")
                birth, sex = parsed.birth_date, Sex(parsed.sex)
                index = id_index(id_type, parsed.number)
                number_text = parsed.number
    elif id_type != IdType.NONE:
        if not number_text:
            errors["id_number"] = _("Enter the document number, or write 无 as its type.")
        else:
            index = id_index(id_type, number_text)
    phone = ""
    try:
        phone = clean_phone(record.get("phone", ""))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    unit = None
    if not record.get("unit"):
        errors["unit"] = _("This field is required.")
    else:
        try:
            unit = resolver.resolve(record["unit"], record.get("grid", ""))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    groups: list[str] = []
    for word in GROUP_SPLIT.split(record.get("groups", "")):
        word = word.strip()
        if not word:
            continue
        code = words.get(word)
        if code is None:
            errors["groups"] = _("Unknown target group: %(word)s") % {"word": word}
        elif code not in groups:
            groups.append(code)
    if errors or unit is None:
        raise ValidationError(errors or {"unit": _("This field is required.")})
    return CleanRow(
        number=number,
        unit=unit,
        groups=groups,
        values={
            "name": name,
            "sex": sex or Sex.UNKNOWN,
            "birth_date": birth,
            "id_type": id_type,
            "id_number": number_text if id_type != IdType.NONE else "",
            "id_number_index": index,
            "phone": phone,
            "phone_index": phone_index(phone) if phone else "",
            "address": record.get("address", ""),
            "ethnicity": record.get("ethnicity", "")[:20],
            "notes": record.get("notes", ""),
        },
    )


def check(data: bytes, file_name: str, user: Any, progress: Any = None) -> CheckResult:
    """Every row's problems, including duplicates in the file and in the system."""
    result = CheckResult()
    resolver = UnitResolver(user)
    words = group_words()
    today = timezone.localdate()
    seen: dict[str, int] = {}
    pending: list[CleanRow] = []

    def flush_duplicates() -> None:
        # Every key's index of each number, so rows not yet rotated to a new key count too.
        variants = {
            r.number: id_indexes(r.values["id_type"], r.values["id_number"])
            for r in pending
            if r.values["id_number_index"]
        }
        existing = set(
            Person.objects.filter(
                id_number_index__in=[i for found in variants.values() for i in found]
            ).values_list("id_number_index", flat=True)
        )
        for row in pending:
            if existing.intersection(variants.get(row.number, ())):
                result.add(
                    row.number,
                    "id_number",
                    _("A file with this document number already exists in the system."),
                )
            else:
                result.rows.append(row)
        pending.clear()

    for number, record in read_rows(data, file_name):
        result.total += 1
        try:
            row = check_row(number, record, resolver=resolver, words=words, today=today)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    result.add(number, key, message)
            continue
        index = row.values["id_number_index"]
        if index:
            if index in seen:
                result.add(
                    number,
                    "id_number",
                    _("Same document number as row %(row)d.") % {"row": seen[index]},
                )
                continue
            seen[index] = number
        pending.append(row)
        if len(pending) >= BATCH:
            flush_duplicates()
            if progress is not None:
                progress(result.total)
    flush_duplicates()
    return result


# --- the stored upload ---------------------------------------------------------------------


def upload_path(job: ImportJob) -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{job.pk}.sealed"


def store_upload(job: ImportJob, data: bytes) -> None:
    """The sealed spreadsheet, written all or nothing (mode 0600); raises StorageFull when the
    disk is full, leaving no file (xinqiao/lib/storage.py)."""
    write_file(upload_path(job), keyring().encrypt_bytes(data, context=f"import:{job.pk}"))


def load_upload(job: ImportJob) -> bytes:
    return keyring().decrypt_bytes(upload_path(job).read_bytes(), context=f"import:{job.pk}")


def discard_upload(job: ImportJob) -> None:
    upload_path(job).unlink(missing_ok=True)


# --- writing -------------------------------------------------------------------------------


def _insert(rows: list[CleanRow], user: Any) -> int:
    # Bulk inserts bypass the models' signals: the aggregate tables are told which units'
    # people and new files to recount (xinqiao.reports.tally, issue #9 item 5).
    from xinqiao.reports import tally

    today = timezone.localdate()
    tally.touch(
        {(r.unit.pk, "people", SNAPSHOT_DAY) for r in rows}
        | {(r.unit.pk, "new_files", today) for r in rows}
    )
    if connection.vendor == "postgresql":
        return _copy_insert(rows, user)
    people = [
        Person(unit=r.unit, created_by=user, priority_level=priority_level(r.groups), **r.values)
        for r in rows
    ]
    Person.objects.bulk_create(people, batch_size=BATCH)
    GroupMembership.objects.bulk_create(
        [
            GroupMembership(person=p, group=g, date_from=today, recorded_by=user)
            for p, r in zip(people, rows, strict=True)
            for g in r.groups
        ],
        batch_size=BATCH,
    )
    PersonEvent.objects.bulk_create(
        [
            PersonEvent(
                person=p,
                kind=EventKind.IMPORTED,
                actor=user,
                summary=_("Imported"),
                object_type="people.person",
                object_id=str(p.pk),
            )
            for p in people
        ],
        batch_size=BATCH,
    )
    return len(people)


_COPY_FIELDS = [
    "id",
    "unit_id",
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "id_type",
    "id_number",
    "id_number_index",
    "phone",
    "phone_index",
    "address",
    "contact_name",
    "contact_relation",
    "contact_phone",
    "notes",
    "is_deceased",
    "priority_level",
    "status",
    "created_at",
    "created_by_id",
    "updated_at",
    "erasure_reason",
]


def _copy_insert(rows: list[CleanRow], user: Any) -> int:
    """PostgreSQL: the same rows through COPY, the fastest way in (values encrypted first,
    exactly as the model field would). A unique violation surfaces as Django's
    IntegrityError, as from the ORM path."""
    import psycopg

    try:
        return _copy_rows(rows, user)
    except psycopg.errors.UniqueViolation as exc:
        raise IntegrityError(str(exc)) from exc


def _copy_rows(rows: list[CleanRow], user: Any) -> int:
    fields = {f.name: f for f in Person._meta.get_fields() if hasattr(f, "encrypt")}
    now = timezone.now()
    today = timezone.localdate()
    ids = [uuid.uuid4() for _ in rows]
    with connection.cursor() as cursor:
        columns = ", ".join(_COPY_FIELDS)
        with cursor.copy(f"COPY people_person ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                v = row.values
                copy.write_row(
                    (
                        pk,
                        row.unit.pk,
                        v["name"],
                        v["sex"],
                        v["birth_date"],
                        v["ethnicity"],
                        v["id_type"],
                        fields["id_number"].encrypt(v["id_number"]),
                        v["id_number_index"],
                        fields["phone"].encrypt(v["phone"]),
                        v["phone_index"],
                        fields["address"].encrypt(v["address"]),
                        "",
                        "",
                        "",
                        fields["notes"].encrypt(v["notes"]),
                        False,
                        priority_level(row.groups),
                        "active",
                        now,
                        user.pk,
                        now,
                        "",
                    )
                )
        with cursor.copy(
            'COPY people_groupmembership (id, person_id, "group", date_from, recorded_by_id,'
            " recorded_at) FROM STDIN"
        ) as copy:
            for pk, row in zip(ids, rows, strict=True):
                for group in row.groups:
                    copy.write_row((uuid.uuid4(), pk, group, today, user.pk, now))
        summary = _("Imported")
        with cursor.copy(
            "COPY people_personevent (person_id, at, kind, actor_id, summary, object_type,"
            " object_id) FROM STDIN"
        ) as copy:
            for pk in ids:
                copy.write_row(
                    (pk, now, EventKind.IMPORTED, user.pk, summary, "people.person", str(pk))
                )
    return len(rows)


FINISHED = (ImportStatus.DONE, ImportStatus.FAILED)


def _load(job: ImportJob) -> bytes | None:
    """The sealed upload; None if another run finished the job (and removed the file)
    meanwhile."""
    try:
        return load_upload(job)
    except FileNotFoundError:
        job.refresh_from_db()
        if job.status in FINISHED:
            return None
        raise


def run_check(job: ImportJob) -> ImportJob:
    """Check the stored file and record every row's problems. Safe to run again: a check
    resumed after its worker died (status CHECKING) starts over. Progress is committed as it
    goes (outside any transaction), so the page's progress bar moves."""
    mine = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKING)
    if not ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportStatus.UPLOADED, ImportStatus.CHECKING]
    ).update(status=ImportStatus.CHECKING, processed_rows=0):
        job.refresh_from_db()
        return job  # checked (or further) already

    def progress(n: int) -> None:
        mine.update(processed_rows=n)
        extend_lease()

    data = _load(job)
    if data is None:
        return job
    try:
        result = check(data, job.file_name, job.created_by, progress)
    except FileProblem as exc:
        if mine.update(
            status=ImportStatus.FAILED, message=str(exc)[:300], finished_at=timezone.now()
        ):
            transaction.on_commit(lambda: discard_upload(job))
        job.refresh_from_db()
        return job
    # Only over this check's own CHECKING: never back over an import started meanwhile.
    mine.update(
        status=ImportStatus.CHECKED,
        total_rows=result.total,
        processed_rows=result.total,
        valid_rows=len(result.rows),
        error_count=len(result.error_rows),
        errors=result.errors,
    )
    job.refresh_from_db()
    return job


def run_import(job: ImportJob) -> ImportJob:
    """Write the rows: all or nothing, or only the valid ones. The file is checked again
    first, since files may have been registered since the preview.

    The rows and the job's final status commit together, in one transaction that first locks
    the job's row and leaves a finished job as it is: a run resumed after its worker died, or
    a second run at the same time, imports nothing twice and never marks a done import
    failed. The sealed file is removed once the outcome is committed."""
    if not ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportStatus.CHECKED, ImportStatus.IMPORTING]
    ).update(status=ImportStatus.IMPORTING, processed_rows=0):
        job.refresh_from_db()
        if job.status in FINISHED:
            discard_upload(job)  # left over by a run killed after its commit
        return job
    job.status, job.processed_rows = ImportStatus.IMPORTING, 0
    data = _load(job)
    if data is None:
        return job
    try:
        result = check(data, job.file_name, job.created_by, lambda _n: extend_lease())
    except FileProblem as exc:
        return _finish(job, ImportStatus.FAILED, str(exc), 0)
    if job.mode == ImportMode.ALL_OR_NOTHING and result.error_rows:
        return _finish(
            job,
            ImportStatus.FAILED,
            _("Nothing was imported: %(n)d rows have problems.") % {"n": len(result.error_rows)},
            0,
            checked=result,
        )
    extend_lease()
    try:
        with transaction.atomic():
            locked = _lock(job)
            if locked.status in FINISHED:
                return locked
            # Keeps this job's row locked while the rows go in: no other worker takes over.
            extend_lease()
            imported = 0
            for start in range(0, len(result.rows), BATCH):
                imported += _insert(result.rows[start : start + BATCH], job.created_by)
                ImportJob.objects.filter(pk=job.pk).update(processed_rows=imported)
            _record(locked, ImportStatus.DONE, "", imported)
    except IntegrityError:
        return _finish(
            job,
            ImportStatus.FAILED,
            _(
                "Nothing was imported: a file with one of these document numbers was "
                "registered meanwhile. Check the file again."
            ),
            0,
        )
    return locked


def _lock(job: ImportJob) -> ImportJob:
    """The job's row, locked for the rest of the transaction; a finished job's upload is
    removed once the transaction commits (a left-over of a run killed after its commit)."""
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status in FINISHED:
        transaction.on_commit(lambda: discard_upload(locked))
    return locked


def _finish(
    job: ImportJob,
    status: str,
    message: str,
    imported: int,
    *,
    checked: CheckResult | None = None,
) -> ImportJob:
    """Record the outcome (with the problems ``checked`` found), unless another run already
    finished the job."""
    with transaction.atomic():
        locked = _lock(job)
        if locked.status not in FINISHED:
            if checked is not None:
                locked.errors = checked.errors
                locked.error_count = len(checked.error_rows)
            _record(locked, status, message, imported)
    return locked


def _record(job: ImportJob, status: str, message: str, imported: int) -> None:
    job.status = status
    job.message = message[:300]
    job.imported_rows = imported
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "message",
            "imported_rows",
            "finished_at",
            "errors",
            "error_count",
        ]
    )
    transaction.on_commit(lambda: discard_upload(job))


def template_workbook() -> bytes:
    """The import template: Chinese headers (required ones starred) and one example row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "人员信息"
    sheet.append([f"{h}*" if required else h for h, _key, required in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    notes = book.create_sheet("填写说明")
    notes.append(["列", "说明"])
    notes.append(["性别", "男 / 女 / 未知"])
    notes.append(["出生日期", "YYYY-MM-DD；填写身份证号时可留空"])
    notes.append(["证件类型", "、".join(ID_TYPE_WORDS)])
    notes.append(["所属单位", "单位名称或行政区划代码（须在您的管辖范围内）"])
    notes.append(["网格", "所属单位下的网格名称，可留空"])
    notes.append(
        [
            "人群类别",
            "多个类别用“、”分隔：" + "、".join(k for k, v in group_words().items() if k != v),
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
