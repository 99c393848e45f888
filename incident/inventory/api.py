"""The JSON API of the data inventory: systems, and streamed imports of subjects and holdings."""

from __future__ import annotations

import tempfile
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from incident.inventory import service as subjects
from incident.inventory.rules import Format
from incident.inventory.schemas import SystemPublic, SystemSave, system_public
from incident.kernel.access import requires
from incident.kernel.auth import Permission
from incident.kernel.errors import Invalid
from incident.kernel.injected import Config, Db, Now, Who
from incident.kernel.openapi import uploaded_body
from incident.kernel.schemas import InventoryKey

SPOOL_IN_MEMORY = 8 * 1024 * 1024


class InventoryController(Controller):
    path = "/api/v1"
    tags = ["inventory"]

    @get("/systems", guards=[requires(Permission.READ_INCIDENTS)])
    async def list_systems(self, db: Db, actor: Who) -> list[SystemPublic]:
        return [system_public(system, count)
                for system, count in await subjects.list_systems(db, actor=actor)]

    @put("/systems/{key:str}", guards=[requires(Permission.MANAGE_INVENTORY)])
    async def save_system(self, db: Db, clock: Now, actor: Who, key: FromPath[InventoryKey],
                          data: JSONBody[SystemSave]) -> SystemPublic:
        system = await subjects.save_system(db, clock=clock, actor=actor, key=key, name=data.name,
                                            data_categories=[c.value for c in data.data_categories])
        return system_public(system, None)

    @get("/inventory", guards=[requires(Permission.READ_INCIDENTS)])
    async def totals(self, db: Db) -> dict[str, int]:
        subject_count, holding_count = await subjects.inventory_totals(db)
        return {"subjects": subject_count, "holdings": holding_count}


class SubjectImportController(Controller):
    """The streamed import of subjects; mounted on a router of its own that allows large bodies."""

    path = "/api/v1"
    tags = ["inventory"]

    @post("/subjects/import", guards=[requires(Permission.MANAGE_INVENTORY)], status_code=200,
          opt=uploaded_body("text/csv", "application/x-ndjson"))
    async def import_subjects(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                              actor: Who, settings: Config,
                              system: FromQuery[InventoryKey | None] = None,
                              strict: FromQuery[bool] = False) -> dict[str, Any]:
        """Body: the file itself, `text/csv` or `application/x-ndjson` (see the README)."""
        fmt = Format.of_media_type(request.headers.get("content-type", ""))
        if fmt is None:
            raise Invalid.fields([("content-type", "must be text/csv or application/x-ndjson")])
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY,
                                           dir=str(settings.var_dir)) as spool:
            async for chunk in request.stream():
                spool.write(chunk)
            spool.seek(0)
            report = await subjects.import_subjects(db, clock=clock, actor=actor, stream=spool,
                                                    fmt=fmt, default_system=system, strict=strict)
        return report.to_json()
