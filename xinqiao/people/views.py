"""Person-file pages. Each reads top to bottom: access → act → respond."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinqiao.accounts.http import signed_in
from xinqiao.audit.log import log_access
from xinqiao.audit.models import AccessKind
from xinqiao.concurrency import submit_edit, versioned_initial
from xinqiao.lib.storage import StorageFull, add_storage_full_errors, storage_full_message
from xinqiao.orgs.models import Unit, UnitKind
from xinqiao.orgs.permissions import Action
from xinqiao.orgs.scope import (
    can,
    get_or_404,
    require,
    require_confidentiality_agreement,
    scoped,
)
from xinqiao.people import actions, exporting, importing, tasks
from xinqiao.people import search as people_search
from xinqiao.people.access import access_person, people_in_scope
from xinqiao.people.events import event_link
from xinqiao.people.forms import (
    ConsentForm,
    DecideForm,
    EndGroupForm,
    EraseForm,
    FamilyForm,
    GroupForm,
    HospitalForm,
    ImportForm,
    IsolationForm,
    PersonEditForm,
    PersonFilterForm,
    PersonForm,
    RequestFileForm,
    TransferForm,
    WithdrawForm,
)
from xinqiao.people.models import (
    Consent,
    FamilyLink,
    FileStatus,
    GroupMembership,
    ImportJob,
    ImportMode,
    ImportStatus,
    Person,
    PersonEvent,
    Transfer,
    TransferStatus,
)
from xinqiao.people.sections import sections_for
from xinqiao.workbench.forms import apply_errors, person_form_page, report, submit

RECEIVING_KINDS = [
    UnitKind.COMMUNITY,
    UnitKind.GRID,
    UnitKind.SCHOOL,
    UnitKind.DESIGNATED_HOSPITAL,
    UnitKind.PSYCHIATRIC_INSTITUTION,
    UnitKind.SERVICE_STATION,
    UnitKind.HOTLINE_CENTRE,
    UnitKind.CIVIL_AFFAIRS,
]


def _require_agreement(request: HttpRequest) -> None:
    """Lists and exports of person files need the agreement as much as a single file does."""
    require_confidentiality_agreement(request.user)


def _filtered(request: HttpRequest, form: PersonFilterForm) -> Any:
    people = people_in_scope(request.user)
    status = FileStatus.ACTIVE
    if form.is_valid():
        data = form.cleaned_data
        status = data["status"] or FileStatus.ACTIVE
        if data["q"]:
            people = people.filter(name__icontains=data["q"].strip())
        if data["lookup"]:
            people = people.filter(actions.document_or_phone_q(data["lookup"]))
        if data["priority"]:
            people = people.filter(priority_level=data["priority"])
        if data["group"]:
            today = timezone.localdate()
            people = people.filter(
                Q(groups__date_to__isnull=True) | Q(groups__date_to__gte=today),
                groups__group=data["group"],
                groups__date_from__lte=today,
            ).distinct()
    return people.filter(status=status)


def _list_url(params: dict[str, Any]) -> str:
    """The person list with these GET parameters (the empty ones left out)."""
    kept = {key: value for key, value in params.items() if value not in ("", None)}
    url = reverse("people:list")
    return f"{url}?{urlencode(kept)}" if kept else url


def _search_in_url(request: HttpRequest) -> HttpResponse | None:
    """A GET that carries a search (``?q=`` or ``?lookup=``: an old bookmark, a hand-typed
    URL) is not run: it is sent on to the same list without it, so the name or number goes no
    further — not into the next page's Referer, not into the links of this one, not into the
    history entry the list would add (issue #10 item 9). Searches are POSTed: ``person_search``."""
    if not any(field in request.GET for field in people_search.SEARCH_FIELDS):
        return None
    kept = {k: v for k, v in request.GET.items() if k not in people_search.SEARCH_FIELDS}
    messages.info(request, _("A search is never put in the address. Type it again, please."))
    return redirect(_list_url(kept))


def _criteria(request: HttpRequest) -> tuple[PersonFilterForm, bool]:
    """The list's filters from the GET parameters, and the search the token ``s`` stands for in
    this session; True as well when there was a token but its search is gone (expired)."""
    data = {field: request.GET.get(field, "") for field in people_search.FILTER_FIELDS}
    token = request.GET.get("s", "")
    search = people_search.recall(request.session, token) if token else None
    if search:
        data.update(search)
    return PersonFilterForm(data), bool(token) and search is None


# What the access log says of a search (its ``reason``): the kind of value, never the value.
SEARCH_REASONS = {"q": "by name", "lookup": "by document number or phone"}


def _list_page(
    request: HttpRequest, form: PersonFilterForm, *, note: str = "", status: int = 200
) -> HttpResponse:
    people = _filtered(request, form).order_by("priority_level", "name")
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    by = [f for f in people_search.SEARCH_FIELDS if form.is_valid() and form.cleaned_data[f]]
    log_access(
        request,
        None,
        kind=AccessKind.SEARCH if by else AccessKind.LIST,
        object_type="people.person",
        reason=" and ".join(SEARCH_REASONS[field] for field in by),
    )
    return render(
        request,
        "people/list.html",
        {
            "form": form,
            "page": page,
            "note": note,
            "can_create": can(request.user, Action.PERSON_EDIT),
            "can_import": can(request.user, Action.PERSON_IMPORT),
            "can_export": can(request.user, Action.PERSON_EXPORT),
        },
        status=status,
    )


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.PERSON_VIEW):
        raise Http404
    _require_agreement(request)
    if moved := _search_in_url(request):
        return moved
    form, expired = _criteria(request)
    note = _("That search has expired, so all files are shown. Search again.") if expired else ""
    return _list_page(request, form, note=note)


@login_required
@require_POST
def person_search(request: HttpRequest) -> HttpResponse:
    """The search form posts here (CSRF-checked). The search is kept in the session and the
    browser is sent (303) to ``/people/?s=<token>`` with the non-personal filters beside it."""
    if not can(request.user, Action.PERSON_VIEW):
        raise Http404
    _require_agreement(request)
    form = PersonFilterForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form, status=400)
    data = form.cleaned_data
    params: dict[str, Any] = {field: data[field] for field in people_search.FILTER_FIELDS}
    search = {
        field: data[field].strip() for field in people_search.SEARCH_FIELDS if data[field].strip()
    }
    if search:
        params["s"] = people_search.remember(request.session, search)
    response = redirect(_list_url(params))
    response.status_code = 303  # See Other: the list is fetched with GET
    return response


@login_required
def person_export(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.PERSON_EXPORT)
    _require_agreement(request)
    if moved := _search_in_url(request):
        return moved
    form, expired = _criteria(request)
    if expired:  # never an export of every file in place of the search that was meant
        return redirect(_list_url(dict(request.GET.items())))
    with_names = can(request.user, Action.PERSON_EXPORT_NAMES) and request.GET.get("names") == "1"
    people = (
        _filtered(request, form)
        .order_by("name")
        .prefetch_related(Prefetch("groups", queryset=GroupMembership.objects.all()))
    )
    if with_names:
        # Names only for people in units where the role allows them.
        people = people.filter(
            pk__in=scoped(Person.objects.all(), request.user, Action.PERSON_EXPORT_NAMES)
        )
    log_access(
        request,
        None,
        kind=AccessKind.EXPORT,
        object_type="people.person",
        reason="identified" if with_names else "de-identified",
    )
    content = exporting.workbook(people.iterator(chunk_size=2000), with_names=with_names)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.xlsx"'
    return response


def _units_for(request: HttpRequest, action: Action) -> Any:
    return scoped(Unit.objects.filter(is_active=True), request.user, action)


@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.PERSON_EDIT)
    _require_agreement(request)
    form = PersonForm(
        request.POST or None, units=_units_for(request, Action.PERSON_EDIT), with_groups=True
    )
    duplicate = None
    request_form = None
    if request.method == "POST" and form.is_valid():
        try:
            person = actions.register_person(acting_user=request.user, **form.cleaned_data)
        except actions.DuplicatePerson as exc:
            if exc.person is not None:
                messages.info(request, _("This person already has a file: here it is."))
                return redirect("people:detail", person_id=exc.person.pk)
            duplicate = exc
            request_form = RequestFileForm(
                units=_units_for(request, Action.PERSON_TRANSFER),
                initial={
                    "id_type": form.cleaned_data["id_type"],
                    "id_number": form.cleaned_data["id_number"],
                    "to_unit": form.cleaned_data["unit"],
                },
            )
            apply_errors(form, exc)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("File created."))
            return redirect("people:detail", person_id=person.pk)
    return render(
        request,
        "people/form.html",
        {
            "form": form,
            "title": _("Register a person"),
            "duplicate": duplicate,
            "request_form": request_form,
        },
    )


@login_required
def person_detail(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    log_access(request, person)
    today = timezone.localdate()
    groups = list(person.groups.all())
    events = list(PersonEvent.objects.filter(person=person).select_related("actor")[:10])
    for event in events:
        event.link = event_link(event)  # type: ignore[attr-defined]
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "age": person.age(today),
            "groups": groups,
            "current_groups": [g for g in groups if g.is_current(today)],
            "hospital_stays": person.hospital_stays.all(),
            "isolations": person.isolations.all(),
            "links_as_person": FamilyLink.objects.filter(person=person).select_related("relative"),
            "links_as_relative": FamilyLink.objects.filter(relative=person).select_related(
                "person"
            ),
            "consents": person.consents.all(),
            "transfers": person.transfers.select_related("from_unit", "to_unit"),
            "events": events,
            "sections": sections_for(request, person),
            "can_edit": can(request.user, Action.PERSON_EDIT, person.unit)
            and person.status != FileStatus.ERASED,
            "can_transfer": can(request.user, Action.PERSON_TRANSFER, person.unit),
            "can_archive": can(request.user, Action.PERSON_ARCHIVE, person.unit),
            "can_erase": can(request.user, Action.PERSON_ERASE, person.unit)
            and person.status != FileStatus.ERASED,
        },
    )


@login_required
def person_timeline(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    log_access(request, person)
    events = PersonEvent.objects.filter(person=person).select_related("actor")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    for event in page:
        event.link = event_link(event)  # type: ignore[attr-defined]
    return render(request, "people/timeline.html", {"person": person, "page": page})


def _editable(request: HttpRequest, person_id: Any) -> Person:
    person = access_person(request.user, person_id)
    require(request.user, Action.PERSON_EDIT, person.unit)
    if person.status == FileStatus.ERASED:
        raise PermissionDenied(_("This file has been erased."))
    return person


def _back(person: Person, section: str) -> HttpResponse:
    from django.urls import reverse

    return redirect(reverse("people:detail", kwargs={"person_id": person.pk}) + f"#{section}")


@login_required
def person_edit(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = _editable(request, person_id)
    fields = actions.EDITABLE_FIELDS
    initial = {f: getattr(person, f) for f in fields} | versioned_initial(person, fields)
    form = PersonEditForm(request.POST or None, initial=initial)
    saved, stale = submit_edit(
        request,
        form,
        lambda data, version, token: actions.update_person(
            acting_user=request.user,
            person=person,
            expected_version=version,
            read_digests=token,
            **data,
        ),
        _("File saved."),
        heading=_("Someone else changed this file while you were editing: %(fields)s changed."),
    )
    if saved is not None:
        return _back(person, "top")
    response = person_form_page(request, person, form, _("Edit file"))
    if stale:
        response.status_code = 409  # Conflict: the file changed since the form was read
    return response


@login_required
def group_add(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = _editable(request, person_id)
    form = GroupForm(request.POST or None)
    if (
        submit(
            request,
            form,
            lambda data: actions.add_group(acting_user=request.user, person=person, **data),
            _("Target group added."),
        )
        is not None
    ):
        return _back(person, "groups")
    return person_form_page(request, person, form, _("Add a target group"))


@login_required
def group_end(request: HttpRequest, person_id: Any, group_id: Any) -> HttpResponse:
    person = _editable(request, person_id)
    membership = get_or_404(GroupMembership.objects.filter(person=person), group_id)
    form = EndGroupForm(request.POST or None)
    if (
        submit(
            request,
            form,
            lambda data: actions.end_group(acting_user=request.user, membership=membership, **data),
            _("Target group ended."),
        )
        is not None
    ):
        return _back(person, "groups")
    return person_form_page(
        request, person, form, _("End: %(group)s") % {"group": membership.get_group_display()}
    )


@login_required
def hospital_add(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = _editable(request, person_id)
    form = HospitalForm(request.POST or None)
    if (
        submit(
            request,
            form,
            lambda data: actions.record_hospital_stay(
                acting_user=request.user, person=person, **data
            ),
            _("Hospital stay recorded."),
        )
        is not None
    ):
        return _back(person, "hospital")
    return person_form_page(request, person, form, _("Record a hospital stay"))


@login_required
def isolation_add(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = _editable(request, person_id)
    form = IsolationForm(request.POST or None, sites=actions.isolation_sites_for(person))
    if (
        submit(
            request,
            form,
            lambda data: actions.record_isolation(acting_user=request.user, person=person, **data),
            _("Isolation recorded."),
        )
        is not None
    ):
        return _back(person, "isolation")
    return person_form_page(request, person, form, _("Record isolation"))


def _link_family(request: HttpRequest, person: Person, data: dict[str, Any]) -> FamilyLink:
    """Find or record the other person, then link the two in the chosen direction."""
    if data["other_id_number"]:
        other = actions.find_by_document(data["other_id_type"], data["other_id_number"])
        if other is None or not people_in_scope(request.user).filter(pk=other.pk).exists():
            raise ValidationError(
                {"other_id_number": _("No file with this document number that you can see.")}
            )
    elif data["other_name"]:
        other = actions.register_person(
            acting_user=request.user,
            unit=person.unit,
            name=data["other_name"],
            id_type="none",
            is_deceased=data["other_deceased"],
            date_of_death=data["other_date_of_death"],
        )
    else:
        raise ValidationError(
            {"other_id_number": _("Give the other person's document number, or a name.")}
        )
    patient, relative = (person, other) if data["side"] == "person" else (other, person)
    return actions.link_family(
        acting_user=request.user,
        person=patient,
        relative=relative,
        kind=data["kind"],
        relationship=data["relationship"],
    )


@login_required
def family_add(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = _editable(request, person_id)
    form = FamilyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                _link_family(request, person, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Family link recorded."))
            return _back(person, "family")
    return person_form_page(request, person, form, _("Add a family link"))


@login_required
def consent_add(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = _editable(request, person_id)
    form = ConsentForm(request.POST or None)
    if (
        submit(
            request,
            form,
            lambda data: actions.give_consent(acting_user=request.user, person=person, **data),
            _("Consent recorded."),
        )
        is not None
    ):
        return _back(person, "consent")
    return person_form_page(request, person, form, _("Record consent"))


@login_required
def consent_withdraw(request: HttpRequest, person_id: Any, consent_id: Any) -> HttpResponse:
    person = _editable(request, person_id)
    consent = get_or_404(Consent.objects.filter(person=person), consent_id)
    form = WithdrawForm(request.POST or None)
    if (
        submit(
            request,
            form,
            lambda data: actions.withdraw_consent(
                acting_user=request.user, consent=consent, **data
            ),
            _("Consent withdrawn."),
        )
        is not None
    ):
        return _back(person, "consent")
    return person_form_page(
        request,
        person,
        form,
        _("Withdraw consent: %(purpose)s") % {"purpose": consent.get_purpose_display()},
    )


@login_required
def transfer_propose(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.PERSON_TRANSFER, person.unit)
    units = Unit.objects.filter(is_active=True, kind__in=RECEIVING_KINDS).exclude(pk=person.unit_id)
    form = TransferForm(request.POST or None, units=units)
    if (
        submit(
            request,
            form,
            lambda data: actions.propose_transfer(acting_user=request.user, person=person, **data),
            _("Transfer proposed; the receiving unit will decide."),
        )
        is not None
    ):
        return _back(person, "transfers")
    return person_form_page(request, person, form, _("Transfer to another unit"))


@login_required
@require_POST
def request_file(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.PERSON_TRANSFER)
    form = RequestFileForm(request.POST, units=_units_for(request, Action.PERSON_TRANSFER))
    if (
        submit(
            request,
            form,
            lambda data: actions.request_file(acting_user=request.user, **data),
            _("Transfer requested; the unit that holds the file will decide."),
        )
        is not None
    ):
        return redirect("people:transfers")
    for field, errors in form.errors.items():
        for error in errors:
            messages.error(
                request,
                f"{form.fields[field].label if field in form.fields else ''} {error}".strip(),
            )
    return redirect("people:create")


@login_required
def transfer_inbox(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.PERSON_TRANSFER)
    to_decide = actions.transfers_to_decide(request.user)
    mine = Transfer.objects.filter(requested_by=signed_in(request)).select_related(
        "from_unit", "to_unit"
    )[:50]
    return render(
        request,
        "people/transfers.html",
        {"to_decide": to_decide, "mine": mine, "form": DecideForm()},
    )


@login_required
@require_POST
def transfer_decide(request: HttpRequest, transfer_id: Any) -> HttpResponse:
    transfer = get_or_404(actions.transfers_to_decide(request.user), transfer_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose accept or decline."))
        return redirect("people:transfers")
    report(
        request,
        lambda: actions.decide_transfer(
            acting_user=request.user, transfer=transfer, **form.cleaned_data
        ),
        _("Transfer accepted.") if form.cleaned_data["accept"] else _("Transfer declined."),
    )
    return redirect("people:transfers")


@login_required
@require_POST
def transfer_cancel(request: HttpRequest, transfer_id: Any) -> HttpResponse:
    transfer = get_or_404(
        Transfer.objects.filter(requested_by=signed_in(request), status=TransferStatus.REQUESTED),
        transfer_id,
    )
    report(
        request,
        lambda: actions.cancel_transfer(acting_user=request.user, transfer=transfer),
        _("Transfer cancelled."),
    )
    return redirect("people:transfers")


@login_required
@require_POST
def person_archive(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.PERSON_ARCHIVE, person.unit)
    archive = request.POST.get("archive") == "1"
    report(
        request,
        lambda: actions.set_archived(acting_user=request.user, person=person, archived=archive),
        _("File archived.") if archive else _("File reactivated."),
    )
    return _back(person, "top")


@login_required
def person_erase(request: HttpRequest, person_id: Any) -> HttpResponse:
    person = access_person(request.user, person_id)
    require(request.user, Action.PERSON_ERASE, person.unit)
    form = EraseForm(request.POST or None)
    if (
        submit(
            request,
            form,
            lambda data: actions.erase_person(
                acting_user=request.user,
                person=person,
                legal_reason=data["legal_reason"],
                note=data["note"],
            ),
            _("The personal data of this file has been erased."),
        )
        is not None
    ):
        return _back(person, "top")
    return person_form_page(request, person, form, _("Erase personal data"))


# --- import --------------------------------------------------------------------------------


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.PERSON_IMPORT)
    _require_agreement(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and add_storage_full_errors(request, form):
        pass  # the disk was full while the file streamed in (xinqiao/lib/storage.py)
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > importing.MAX_UPLOAD_BYTES:
            form.add_error(
                "file",
                _("The file is larger than %(mb)d MB; split it.")
                % {"mb": importing.MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        elif not upload.name.lower().endswith((".xlsx", ".csv")):
            form.add_error("file", _("Upload an .xlsx or .csv file."))
        else:
            units = _units_for(request, Action.PERSON_IMPORT)
            try:
                # No job without its stored file: a full disk leaves neither.
                with transaction.atomic():
                    job = ImportJob.objects.create(
                        unit=min(units, key=lambda u: u.depth),
                        created_by=signed_in(request),
                        file_name=upload.name[:200],
                        mode=form.cleaned_data["mode"],
                    )
                    importing.store_upload(job, upload.read())
                    # The check job commits with the import (the database outbox).
                    tasks.enqueue_check(job)
            except StorageFull:
                form.add_error("file", storage_full_message())
            else:
                return redirect("people:import_detail", job_id=job.pk)
    jobs = scoped(ImportJob.objects.all(), request.user, Action.PERSON_IMPORT).filter(
        created_by=signed_in(request)
    )[:20]
    return render(request, "people/import.html", {"form": form, "jobs": jobs})


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    require(request.user, Action.PERSON_IMPORT)
    response = HttpResponse(
        importing.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="xinqiao-people-template.xlsx"'
    return response


def _job(request: HttpRequest, job_id: Any) -> ImportJob:
    jobs = scoped(ImportJob.objects.all(), request.user, Action.PERSON_IMPORT).filter(
        created_by=signed_in(request)
    )
    return get_or_404(jobs, job_id)


@login_required
def import_detail(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _job(request, job_id)
    page = Paginator(job.errors, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "people/import_detail.html",
        {
            "job": job,
            "page": page,
            "running": job.status
            in (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.IMPORTING),
        },
    )


@login_required
def import_status(request: HttpRequest, job_id: Any) -> HttpResponse:
    """The progress bar, polled by HTMX while the job runs."""
    job = _job(request, job_id)
    running = job.status in (ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.IMPORTING)
    response = render(request, "people/_import_progress.html", {"job": job, "running": running})
    if not running and request.htmx:  # type: ignore[attr-defined]
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def import_start(request: HttpRequest, job_id: Any) -> HttpResponse:
    job = _job(request, job_id)
    if job.status != ImportStatus.CHECKED:
        messages.error(request, _("This import cannot be started now."))
        return redirect("people:import_detail", job_id=job.pk)
    mode = request.POST.get("mode", job.mode)
    with transaction.atomic():
        if mode in ImportMode.values:
            job.mode = mode
            job.save(update_fields=["mode"])
        tasks.enqueue_import(job)
    return redirect("people:import_detail", job_id=job.pk)
