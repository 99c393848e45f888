"""The data inventory in the browser: its counts, its systems, and the import of subjects.

The import form posts the file as multipart form data; the server spools it to a temporary
file as it arrives (never the whole file in memory) and runs the very import the CLI and
`POST /api/v1/subjects/import` run, in one transaction. Each import has an id the form carries;
while it runs, `GET /inventory/imports/{id}` answers how far it has read the file, which
static/inventory.js polls to move the progress bar (the browser's own upload progress covers
the sending). When the import ends, or is refused, the form is sent back (303) to the inventory
page with the import's report: the counts and every rejected line with its reason.

An import's progress (counts of bytes only) is kept in the memory of the process that runs it.
Its report is kept in the database for a day (`inventory.keep_import_report`), so any process
shows it, and only to the roles that may import: a rejected line's reason may quote its
values, which are personal data. The timeline keeps each import's summary.

The systems forms are sent back to their page (303) when refused too, which then shows the
messages beside the fields and what was typed, once (incident.kernel.pages.send_back).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from pydantic import TypeAdapter, ValidationError

from incident.inventory import service as inventory
from incident.inventory.rules import Format
from incident.inventory.schemas import SystemSave
from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.errors import Conflict, DomainError, Invalid
from incident.kernel.injected import Db, Now, Who
from incident.kernel.pages import held_for, refusal_sentence, render_page, send_back
from incident.kernel.schemas import InventoryKey
from incident.kernel.vocabulary import DataCategory

KEPT_IMPORTS = 50
"""How many imports' progress the web process keeps (the oldest go first)."""
IMPORT_ID = re.compile(r"^[0-9a-f]{32}$")
KEY_RULE = ("must be 1 to 64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit")
_KEY = TypeAdapter(InventoryKey)


@dataclass
class ImportRecord:
    """One import from the page while it runs: who started it and how far it got."""

    owner: str
    phase: str = "receiving"  # receiving | importing | done | refused
    read: int = 0
    total: int = 0

    def advance(self, size: int) -> None:
        self.read += size


class ImportRecords:
    """The progress of the last imports started from the page, by id; each is visible to its
    importer only."""

    def __init__(self) -> None:
        self._records: OrderedDict[str, ImportRecord] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, import_id: str, record: ImportRecord) -> ImportRecord:
        with self._lock:
            self._records[import_id] = record
            self._records.move_to_end(import_id)
            while len(self._records) > KEPT_IMPORTS:
                self._records.popitem(last=False)
        return record

    def find(self, import_id: str | None, actor: Actor) -> ImportRecord | None:
        with self._lock:
            record = self._records.get(import_id or "")
        return record if record is not None and record.owner == owner_of(actor) else None


def owner_of(actor: Actor) -> str:
    return f"{actor.user_id}:{actor.label}"


def imports_of(request: Request[Any, Any, Any]) -> ImportRecords:
    records: ImportRecords = request.app.state["imports"]
    return records


@dataclass
class SystemForm:
    """What a system form held, given back as typed when it is refused."""

    key: str = ""
    name: str = ""
    data_categories: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, form: Any, key: str = "") -> SystemForm:
        return cls(key=str(form.get("key", key)).strip(), name=str(form.get("name", "")),
                   data_categories=[str(v) for v in form.getall("data_categories", [])])


def system_form_errors(key: str | None, name: str, categories: list[str]) -> Invalid | None:
    """The same checks as `PUT /api/v1/systems/{key}`, as one refusal naming each field."""
    problems: list[tuple[str, str]] = []
    if key is not None:
        try:
            _KEY.validate_python(key)
        except ValidationError:
            problems.append(("key", KEY_RULE))
    try:
        SystemSave.model_validate({"name": name, "data_categories": categories})
    except ValidationError as exc:
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else "form"
            message = error["msg"]
            if where == "name":
                message = "is missing" if not name.strip() else (
                    "must be one line of at most 200 characters")
            elif where == "data_categories":
                message = f"must be among {', '.join(DataCategory)}"
            problems.append((where, message))
    return Invalid.fields(problems) if problems else None


def _errors_by_field(exc: DomainError) -> dict[str, str]:
    return {e["field"]: e["message"] for e in exc.extensions.get("errors") or []}


class InventoryPages(Controller):
    """The inventory's counts and import form, and its systems."""

    path = "/"
    include_in_schema = False

    @get("/inventory", guards=[requires(Permission.READ_INCIDENTS)])
    async def overview(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                       import_id: FromQuery[str | None] = None) -> Template:
        """The counts, and for those who may import the form and `import_id`'s report."""
        shown = None
        if import_id and IMPORT_ID.match(import_id) and actor.can(Permission.MANAGE_INVENTORY):
            shown = await inventory.import_report(db, clock=clock, actor=actor,
                                                  import_id=import_id)
        counts = await inventory.inventory_counts(db, actor=actor)
        return render_page(request, "inventory.html", counts=counts,
                           can_manage=actor.can(Permission.MANAGE_INVENTORY),
                           systems=[(key, name) for key, name, _ in sorted(counts.by_system)],
                           record=shown, next_import=uuid.uuid4().hex)

    @get("/inventory/imports/{import_id:str}", guards=[requires(Permission.MANAGE_INVENTORY)])
    async def progress(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                       import_id: FromPath[str]) -> dict[str, Any]:
        """How far an import has read its file (for the progress bar); `receiving` until the
        upload is complete, or for an id this person never started. An import another process
        ran is over once its report is kept."""
        record = imports_of(request).find(import_id, actor)
        if record is not None:
            return {"phase": record.phase, "read": record.read, "total": record.total}
        ended = (await inventory.import_report(db, clock=clock, actor=actor, import_id=import_id)
                 if IMPORT_ID.match(import_id) else None)
        if ended is not None and ended.started_by == actor.label:
            size = int((ended.report or {}).get("bytes", 0))
            return {"phase": ended.phase, "read": size, "total": size}
        return {"phase": "receiving", "read": 0, "total": 0}

    @get("/inventory/systems", guards=[requires(Permission.READ_INCIDENTS)])
    async def systems(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                      actor: Who) -> Template:
        """The systems, and the form that adds one (as typed, after a refusal)."""
        held = await held_for(request, db, clock)
        return render_page(request, "systems.html",
                           systems=await inventory.list_systems(db, actor=actor),
                           can_manage=actor.can(Permission.MANAGE_INVENTORY),
                           categories=[c.value for c in DataCategory],
                           typed=SystemForm(**held.get("typed", {})),
                           notice=held.get("notice"), field_errors=held.get("field_errors", {}))

    @post("/inventory/systems", guards=[requires(Permission.MANAGE_INVENTORY)])
    async def add_system(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                         actor: Who) -> Response[Any]:
        form = await request.form()
        typed = SystemForm.of(form)
        try:
            refused = system_form_errors(typed.key, typed.name, typed.data_categories)
            if refused is not None:
                raise refused
            await inventory.save_system(db, clock=clock, actor=actor, key=typed.key,
                                        name=typed.name.strip(),
                                        data_categories=typed.data_categories, new=True)
        except (Invalid, Conflict) as exc:
            return await send_back(request, db, clock, "/inventory/systems#add-system",
                                   typed=typed, notice=refusal_sentence(exc),
                                   field_errors=_errors_by_field(exc))
        return Redirect(f"/inventory/systems#system-{quote(typed.key)}", status_code=303)

    @get("/inventory/systems/{key:str}", guards=[requires(Permission.MANAGE_INVENTORY)])
    async def edit_system(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                          key: FromPath[str]) -> Template:
        """A system as a form (as typed, after a refusal)."""
        held = await held_for(request, db, clock)
        system = await inventory.get_system(db, actor=actor, key=key)
        typed = (SystemForm(**held["typed"]) if "typed" in held
                 else SystemForm(key, system.name, list(system.data_categories)))
        return render_page(request, "systems_edit.html", key=key, typed=typed,
                           categories=[c.value for c in DataCategory],
                           notice=held.get("notice"), field_errors=held.get("field_errors", {}))

    @post("/inventory/systems/{key:str}", guards=[requires(Permission.MANAGE_INVENTORY)])
    async def save_system(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                          key: FromPath[str]) -> Response[Any]:
        form = await request.form()
        typed = SystemForm.of(form, key)
        refused = system_form_errors(None, typed.name, typed.data_categories)
        if refused is not None:
            return await send_back(request, db, clock,
                                   f"/inventory/systems/{quote(key)}#notice", typed=typed,
                                   notice=refusal_sentence(refused),
                                   field_errors=_errors_by_field(refused))
        system = await inventory.save_system(db, clock=clock, actor=actor, key=key,
                                             name=typed.name.strip(),
                                             data_categories=typed.data_categories, existing=True)
        return Redirect(f"/inventory/systems#system-{quote(system.key)}", status_code=303)


class SubjectImportPages(Controller):
    """The import form's target. Files are larger than any other form, so the app mounts this
    controller on a router with the import's body limit."""

    path = "/"
    include_in_schema = False

    @post("/inventory/import", guards=[requires(Permission.MANAGE_INVENTORY)])
    async def import_subjects(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                              actor: Who) -> Redirect:
        form = await request.form()
        typed_id = str(form.get("import_id", ""))
        import_id = typed_id if IMPORT_ID.match(typed_id) else uuid.uuid4().hex
        upload = form.get("file")
        record = imports_of(request).start(import_id, ImportRecord(owner=owner_of(actor)))
        end = inventory.ImportEnd(
            filename=(upload.filename or "") if isinstance(upload, UploadFile) else "",
            system=str(form.get("system", "")).strip(),
            strict=str(form.get("strict", "")) == "on", phase="refused")
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise Invalid.fields([("file", "is missing: choose a CSV or JSON Lines file")])
            fmt = Format.of_filename(upload.filename) or Format.of_media_type(
                upload.content_type or "")
            if fmt is None:
                raise Invalid.fields([("file", "must be a CSV (.csv) or JSON Lines (.jsonl, "
                                               ".ndjson) file")])
            stream = upload.file
            stream.seek(0, 2)
            record.total = stream.tell()
            stream.seek(0)
            record.phase = "importing"
            report = await inventory.import_subjects(
                db, clock=clock, actor=actor, stream=stream, fmt=fmt,
                default_system=end.system or None, strict=end.strict,
                progress=record.advance)
        except Invalid as exc:
            end = replace(end, refusal=refusal_sentence(exc))
        except inventory.ImportRefused as exc:  # its errors name lines, not fields
            end = replace(end, refusal=exc.detail[:1].upper() + exc.detail[1:] + ".",
                          errors=list(exc.extensions.get("errors") or []))
        else:
            end = replace(end, phase="done", report=report.to_json())
        finally:
            if isinstance(upload, UploadFile):
                await upload.close()
        await inventory.keep_import_report(db, clock=clock, actor=actor, import_id=import_id,
                                           end=end)
        record.phase = end.phase
        return Redirect(f"/inventory?import_id={import_id}#import", status_code=303)
